-- Group window SESSION(ts, 3 s) per user: sessions merge as rows arrive, late rows dropped.
CREATE TABLE events (
    `user` STRING,
    amount INT,
    price DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/events.json', 'format' = 'json');

SELECT `user`,
       SESSION_START(ts, INTERVAL '3' SECOND) AS s_start,
       SESSION_END(ts, INTERVAL '3' SECOND) AS s_end,
       COUNT(*) AS n,
       SUM(amount) AS total
FROM events
GROUP BY `user`, SESSION(ts, INTERVAL '3' SECOND);
