-- Group window HOP(ts, 5 s, 10 s) with HOP_START/_END.
CREATE TABLE events (
    `user` STRING,
    amount INT,
    price DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/events.json', 'format' = 'json');

SELECT HOP_START(ts, INTERVAL '5' SECOND, INTERVAL '10' SECOND) AS w_start,
       HOP_END(ts, INTERVAL '5' SECOND, INTERVAL '10' SECOND) AS w_end,
       COUNT(*) AS n,
       MAX(amount) AS top
FROM events
GROUP BY HOP(ts, INTERVAL '5' SECOND, INTERVAL '10' SECOND);
