-- Late rows at parallelism 2: a single JSON file is one split, read by one subtask; its chain (conversion and
-- watermark assigner) stays on that subtask, as Flink's does, so the watermark sees the file in order and dave's
-- two late rows (00:05 and 00:17) are dropped, as at parallelism 1 (cases/tumble-tvf-late.sql).
SET 'parallelism.default' = '2';

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
