-- A FULL OUTER regular join with a residual condition: unmatched rows of both sides padded with NULLs, a NULL key never matches; the final table of its changelog.
CREATE TABLE orders (
    id INT,
    customer STRING,
    amount BIGINT,
    ts TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/orders.csv', 'format' = 'csv');

CREATE TABLE customers (
    name STRING,
    city STRING,
    since TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/customers.json', 'format' = 'json');

SELECT o.id, o.customer, o.amount, c.name, c.city
FROM orders o FULL OUTER JOIN customers c ON o.customer = c.name AND o.amount > 5;
