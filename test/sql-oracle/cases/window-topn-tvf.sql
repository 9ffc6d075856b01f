-- Window Top-N on a TUMBLE window TVF: the 2 highest prices per 10 s window, once per window; rows late for
-- their window are dropped (dave at 00:05 and 00:17), a NULL price sorts last (bob at 00:09 is not in the top).
CREATE TABLE events (
    `user` STRING,
    amount INT,
    price DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/events.json', 'format' = 'json');

SELECT *
FROM (
    SELECT `user`, price, ts, window_start, window_end,
        ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) AS rn
    FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))
) WHERE rn <= 2;
