-- A DISTINCT whose columns hold its input's unique key (customer, the key of the GROUP BY below): Flink's planner drops the DISTINCT (a no-op on unique rows) and forwards the aggregate's -U/+U; weir runs it, and its aggregate turns them into -D/+I. Same final table, another changelog.
-- oracle-compare: changelog-counts
CREATE TABLE orders (
    id INT,
    customer STRING,
    amount BIGINT,
    ts TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/orders.csv', 'format' = 'csv');

SELECT DISTINCT amount > 12 AS big, customer FROM (SELECT customer, MAX(amount) AS amount FROM orders GROUP BY customer);
