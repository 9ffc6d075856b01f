-- Known weir difference: a window TVF over a view that already has window_start gives two window_start columns;
-- Flink's validator refuses the unqualified name ("Column 'window_start' is ambiguous"), weir picks one.
CREATE TABLE events (
    `user` STRING,
    amount INT,
    price DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/events.json', 'format' = 'json');

CREATE VIEW per_user AS
SELECT window_start, window_end, window_time, `user`, COUNT(*) AS n
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '5' SECOND))
GROUP BY window_start, window_end, window_time, `user`;

SELECT window_start, window_end, SUM(n) AS total
FROM TABLE(TUMBLE(TABLE per_user, DESCRIPTOR(window_time), INTERVAL '10' SECOND))
GROUP BY window_start, window_end;
