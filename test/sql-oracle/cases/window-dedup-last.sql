-- Window deduplication, keep last: per key and 5 s window the row with the latest ts; two rows of a at the
-- same ts 00:03 (which one Flink keeps), a at 00:04 late for its window, a NULL key as its own partition.
CREATE TABLE ticks (
    k STRING,
    v INT,
    p DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/ticks.json', 'format' = 'json');

SELECT k, v, ts, window_start, window_end, rn
FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, k ORDER BY ts DESC) AS rn
    FROM TABLE(TUMBLE(TABLE ticks, DESCRIPTOR(ts), INTERVAL '5' SECOND))
) WHERE rn <= 1;
