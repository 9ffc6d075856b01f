-- A TUMBLE window TVF over a view of an interval join, DESCRIPTOR on the left row's time. Both engines assign
-- windows by that column; Flink's interval join holds its output watermark back by the join's bounds, weir's does not,
-- so on weir joined rows of alice and bob in [00:00, 00:10) come behind the watermark and are dropped as late.
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
WHERE a.`user` = b.`user` AND b.ts BETWEEN a.ts + INTERVAL '1' SECOND AND a.ts + INTERVAL '12' SECOND;

SELECT window_start, `user`, COUNT(*) AS n, SUM(amount) AS total
FROM TABLE(TUMBLE(TABLE followed, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY window_start, window_end, `user`;
