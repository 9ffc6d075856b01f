-- A GROUP BY over an insert-only source with repeated keys: each group's first row is an insert (+I), each later row an update (-U, +U); the changelog's counts of each row kind, not only its final table, equal Flink's.
-- oracle-compare: changelog-counts
CREATE TABLE orders (
    id INT,
    customer STRING,
    amount BIGINT,
    ts TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/orders.csv', 'format' = 'csv');

SELECT customer, COUNT(*) AS n, SUM(amount) AS total FROM orders GROUP BY customer;
