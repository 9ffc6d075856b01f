-- An event-time temporal join: each order with the rate of its currency valid at the order's time (a versioned table: PRIMARY KEY and watermark); out-of-order orders and versions.
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
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/rates.csv', 'format' = 'csv');

SELECT o.id, o.currency, o.amount * r.rate AS converted, r.ts AS rate_time
FROM fx_orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.currency = r.currency;
