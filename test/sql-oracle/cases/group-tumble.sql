-- Group window TUMBLE(ts, 10 s) with TUMBLE_START/_END/_ROWTIME.
CREATE TABLE events (
    `user` STRING,
    amount INT,
    price DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/events.json', 'format' = 'json');

SELECT `user`,
       TUMBLE_START(ts, INTERVAL '10' SECOND) AS w_start,
       TUMBLE_END(ts, INTERVAL '10' SECOND) AS w_end,
       TUMBLE_ROWTIME(ts, INTERVAL '10' SECOND) AS w_time,
       COUNT(*) AS n,
       SUM(price) AS spent
FROM events
GROUP BY `user`, TUMBLE(ts, INTERVAL '10' SECOND);
