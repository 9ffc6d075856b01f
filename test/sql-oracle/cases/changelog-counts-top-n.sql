-- A Top-2 per customer with its row number over an insert-only source: a row entering above others moves them down (-U, +U per rank changed); the changelog's counts of each row kind equal Flink's.
-- oracle-compare: changelog-counts
CREATE TABLE orders (
    id INT,
    customer STRING,
    amount BIGINT,
    ts TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/orders.csv', 'format' = 'csv');

SELECT customer, id, amount, rn
FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY customer ORDER BY amount DESC) AS rn FROM orders)
WHERE rn <= 2;
