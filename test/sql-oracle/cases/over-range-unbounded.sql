-- OVER without a frame (RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) and without PARTITION BY: peers of
-- one timestamp share the result; an OVER call inside an expression.
CREATE TABLE ticks (
    k STRING,
    v INT,
    p DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/ticks.json', 'format' = 'json');

SELECT k, ts, COUNT(*) OVER (ORDER BY ts) AS n, SUM(v) OVER (ORDER BY ts) + 1 AS total1
FROM ticks;
