-- A lookup join on processing time (Nexmark q13's form) against a CSV table declared with Flink's legacy options: a LEFT
-- join pads an order without a match (carol: not in the table; bob: his row fails the rest of the ON condition); the
-- table's row with a NULL key and dave's (no orders) match nothing.
CREATE TABLE orders (
    id INT,
    customer STRING,
    amount INT,
    ts TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/orders.csv', 'format' = 'csv');

CREATE TABLE regions (
    name STRING,
    region STRING,
    code INT
) WITH (
    'connector.type' = 'filesystem',
    'connector.path' = 'test/sql-oracle/cases/data/regions.csv',
    'format.type' = 'csv'
);

SELECT O.id, O.customer, O.amount, R.region, R.code
FROM (SELECT *, PROCTIME() AS p FROM orders) O
LEFT JOIN regions FOR SYSTEM_TIME AS OF O.p AS R
ON O.customer = R.name AND R.region <> 'east';
