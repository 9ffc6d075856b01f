-- FROM a, b WHERE: the equi-key and a condition over both sides taken from WHERE, filters of one side pushed below the join; three tables.
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

CREATE TABLE people (
    id INT,
    name STRING,
    age INT,
    score DOUBLE,
    active BOOLEAN,
    city STRING,
    born TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/people.json', 'format' = 'json');

SELECT o.id, c.city, p.name AS local_name
FROM orders o, customers c, people p
WHERE o.customer = c.name AND c.city = p.city AND o.ts >= c.since AND o.amount < 30;
