-- A GROUP BY whose value does not change on some rows (alice's MAX stays 10 on her 5): Flink sends no update for them; the changelog's counts of each row kind equal Flink's.
-- oracle-compare: changelog-counts
CREATE TABLE orders (
    id INT,
    customer STRING,
    amount BIGINT,
    ts TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/orders.csv', 'format' = 'csv');

SELECT customer, MAX(amount) AS top FROM orders GROUP BY customer;
