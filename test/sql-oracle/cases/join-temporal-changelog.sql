-- A LEFT temporal join against a versioned table read from a changelog (Debezium JSON in a file): updates make new versions (the update-befores are not versions), a delete removes the key's version at the deleted row's time.
CREATE TABLE fx_orders (
    id INT,
    currency STRING,
    amount BIGINT,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/fx-orders.csv', 'format' = 'csv');

CREATE TABLE rates (
    currency STRING,
    rate DOUBLE,
    ts TIMESTAMP(3),
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND,
    PRIMARY KEY (currency) NOT ENFORCED
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/rates-cdc.json', 'format' = 'debezium-json');

SELECT o.id, o.currency, o.amount * r.rate AS converted, r.ts AS rate_time
FROM fx_orders AS o LEFT JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.currency = r.currency;
