-- OVER on the events table (watermark 2 s behind): bounded ROWS keeps dave's rows behind the watermark
-- (his partition has processed nothing later), as Flink's RowTimeRowsBoundedPrecedingFunction does.
CREATE TABLE events (
    `user` STRING,
    amount INT,
    price DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/events.json', 'format' = 'json');

SELECT `user`, ts, amount, SUM(amount) OVER (PARTITION BY `user` ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS last2
FROM events;
