-- COUNT(DISTINCT), FILTER (WHERE …), integer AVG, HAVING on a TUMBLE window TVF aggregate.
CREATE TABLE events (
    `user` STRING,
    amount INT,
    price DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/events.json', 'format' = 'json');

SELECT window_start,
       COUNT(DISTINCT `user`) AS users,
       COUNT(*) FILTER (WHERE price > 1.5) AS dear,
       SUM(amount) FILTER (WHERE `user` <> 'alice') AS not_alice,
       COUNT(DISTINCT amount) FILTER (WHERE amount > 2) AS big_amounts,
       AVG(amount) AS avg_amount,
       MAX(`user`) AS last_user
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY window_start, window_end
HAVING COUNT(*) > 1;
