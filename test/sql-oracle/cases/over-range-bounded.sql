-- OVER RANGE BETWEEN INTERVAL '3' SECOND PRECEDING AND CURRENT ROW on event time: rows of one timestamp are
-- peers with one result; the frame holds the rows at most 3 s older (inclusive).
CREATE TABLE ticks (
    k STRING,
    v INT,
    p DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/ticks.json', 'format' = 'json');

SELECT k, v, ts,
    COUNT(*) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '3' SECOND PRECEDING AND CURRENT ROW) AS n,
    SUM(v) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '3' SECOND PRECEDING AND CURRENT ROW) AS total,
    MAX(p) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '3' SECOND PRECEDING AND CURRENT ROW) AS hi
FROM ticks;
