-- OVER ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW on event time: a running total per partition; rows
-- at or behind the watermark are dropped (b at 00:02, a at 00:04, b at 00:07, a's second row at 00:09, the
-- NULL key's row at 00:10).
CREATE TABLE ticks (
    k STRING,
    v INT,
    p DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/ticks.json', 'format' = 'json');

SELECT k, v, ts,
    SUM(v) OVER w AS total, MIN(p) OVER w AS lo, AVG(v) OVER w AS mean
FROM ticks
WHERE v IS NULL OR v <> 1
WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW);
