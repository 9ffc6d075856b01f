-- OVER ROWS BETWEEN 2 PRECEDING AND CURRENT ROW on event time, a named WINDOW: rows of one timestamp each
-- get their own frame in arrival order; a row behind the watermark is kept while its partition has not yet
-- processed its timestamp or a later one (a at 00:04, b at 00:07 and a's second row at 00:09 are dropped, the
-- NULL key's row at 00:10 is kept).
CREATE TABLE ticks (
    k STRING,
    v INT,
    p DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/ticks.json', 'format' = 'json');

SELECT k, v, ts,
    COUNT(*) OVER w AS n, COUNT(p) OVER w AS np, SUM(v) OVER w AS total, AVG(p) OVER w AS mean,
    MIN(v) OVER w AS lo, MAX(p) OVER w AS hi
FROM ticks
WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW);
