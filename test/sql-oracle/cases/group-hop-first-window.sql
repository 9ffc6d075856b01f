-- HOP group window (slide 5 s, size 15 s) over rows at 00:01, 00:06, 00:11, 00:16 (in order): [00:00, 00:15) counts 3 rows.
-- Once a known difference: weir's sliding panes handed a pane's stored accumulator to merge(), so the row at 00:06 counted twice.
CREATE TABLE ticks (
    v INT,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/every-5s.json', 'format' = 'json');

SELECT HOP_START(ts, INTERVAL '5' SECOND, INTERVAL '15' SECOND) AS w_start,
       HOP_END(ts, INTERVAL '5' SECOND, INTERVAL '15' SECOND) AS w_end,
       COUNT(*) AS n,
       SUM(v) AS total
FROM ticks
GROUP BY HOP(ts, INTERVAL '5' SECOND, INTERVAL '15' SECOND);
