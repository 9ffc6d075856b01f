-- TUMBLE window TVF, 10 s windows, watermark 2 s behind: a row 2.5 s out of order is counted,
-- rows behind the watermark for their window (dave at 00:05 and 00:17) are dropped.
CREATE TABLE events (
    `user` STRING,
    amount INT,
    price DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/events.json', 'format' = 'json');

SELECT window_start, window_end, `user`, COUNT(*) AS n, SUM(amount) AS total, MAX(price) AS top
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY window_start, window_end, `user`;
