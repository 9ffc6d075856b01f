-- Window Top-N over a window aggregate (Flink's WindowRank after WindowAggregate): per 10 s window the two
-- users with the largest total, the row number not in the output; a WHERE on the TVF's rows first.
CREATE TABLE events (
    `user` STRING,
    amount INT,
    price DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/events.json', 'format' = 'json');

SELECT window_start, window_end, `user`, total
FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY total DESC, `user`) AS rownum
    FROM (
        SELECT window_start, window_end, `user`, SUM(amount) AS total
        FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))
        WHERE amount IS NOT NULL
        GROUP BY window_start, window_end, `user`
    )
) WHERE rownum <= 2;
