-- A regular LEFT join whose right side arrives after the left: the right side is a window aggregate of the same orders, fired only at the end of input (its watermark is an hour behind); each left row first goes out padded with NULLs (+I), then is deleted (-D) and inserted joined (+I) when its match comes; the changelog's counts of each row kind equal Flink's.
-- oracle-compare: changelog-counts
CREATE TABLE orders (
    id INT,
    customer STRING,
    amount BIGINT,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '1' HOUR
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/orders.csv', 'format' = 'csv');

CREATE VIEW totals AS
SELECT customer, SUM(amount) AS total
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
WHERE customer <> 'carol'
GROUP BY window_start, window_end, customer;

SELECT o.id, o.customer, o.amount, t.total
FROM orders o LEFT JOIN totals t ON o.customer = t.customer;
