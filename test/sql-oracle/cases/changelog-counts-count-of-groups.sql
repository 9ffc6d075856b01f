-- A COUNT over a GROUP BY: the inner groups' updates move a customer from one outer group to the next (-U, +U in each); the changelog's counts of each row kind equal Flink's.
-- oracle-compare: changelog-counts
CREATE TABLE orders (
    id INT,
    customer STRING,
    amount BIGINT,
    ts TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/orders.csv', 'format' = 'csv');

SELECT n, COUNT(*) AS customers FROM (SELECT customer, COUNT(*) AS n FROM orders GROUP BY customer) GROUP BY n;
