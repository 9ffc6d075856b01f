-- CAST(BOOLEAN AS STRING) gives TRUE/FALSE, as Flink's.
CREATE TABLE events (
    `user` STRING,
    amount INT,
    price DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/events.json', 'format' = 'json');

SELECT `user`, CAST(amount > 3 AS STRING) AS big FROM events WHERE `user` = 'bob';
