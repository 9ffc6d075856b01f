-- Window deduplication, keep first, on HOP windows (each row in two windows), without the row number.
CREATE TABLE ticks (
    k STRING,
    v INT,
    p DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/ticks.json', 'format' = 'json');

SELECT k, v, ts, window_start, window_end
FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, k ORDER BY ts ASC) AS rn
    FROM TABLE(HOP(TABLE ticks, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND))
) WHERE rn = 1;
