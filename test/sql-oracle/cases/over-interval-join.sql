-- An OVER aggregate (RANGE, UNBOUNDED PRECEDING) over a view of an interval join, ordered by the left row's time.
-- Both engines hold the join's output watermark back by its bounds (11 s), so no joined row is behind it: alice's
-- pairs with her row at 00:12 (which arrives when the watermark is at 00:11) are counted at 00:01 and 00:04.
-- The bounds are those of window-over-interval-join.sql (which says why the upper one stays below 12 s).
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

SELECT `user`, ts, amount,
    COUNT(*) OVER (PARTITION BY `user` ORDER BY ts) AS n,
    SUM(amount) OVER (PARTITION BY `user` ORDER BY ts) AS total
FROM followed;
