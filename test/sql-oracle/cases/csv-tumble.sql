-- A CSV file through a WHERE and a TUMBLE window TVF, with UNION ALL of two projections.
CREATE TABLE orders (
    id INT,
    customer STRING,
    amount BIGINT,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/orders.csv', 'format' = 'csv');

CREATE VIEW big AS SELECT customer, amount, ts FROM orders WHERE amount >= 10;

SELECT window_start, window_end, customer, SUM(amount) AS total, COUNT(*) AS n
FROM TABLE(TUMBLE(TABLE big, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY window_start, window_end, customer;
