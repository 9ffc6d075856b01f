-- A TUMBLE window TVF over a view of an interval join, DESCRIPTOR on the left row's time. Both engines assign
-- windows by that column and hold the join's output watermark back by its bounds (11 s), so the pairs of alice's
-- rows at 00:01 and 00:04 with the one at 00:12 (which arrives when the watermark is at 00:11) still count in
-- [00:00, 00:10). The upper bound stays below 12 s: dave's rows at 00:05 and 00:17 both come behind their watermark,
-- and whether such a pair meets depends on how the two scans interleave (on Flink too).
CREATE TABLE events (
    `user` STRING,
    amount INT,
    price DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/events.json', 'format' = 'json');

CREATE VIEW followed AS
SELECT a.`user`, a.ts, b.amount
FROM events a, events b
WHERE a.`user` = b.`user` AND b.ts BETWEEN a.ts + INTERVAL '1' SECOND AND a.ts + INTERVAL '11' SECOND;

SELECT window_start, `user`, COUNT(*) AS n, SUM(amount) AS total
FROM TABLE(TUMBLE(TABLE followed, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY window_start, window_end, `user`;
