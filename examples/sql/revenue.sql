-- The Customer Revenue Pipeline in Flink SQL: orders from CSV, event time with 30 s of bounded
-- out-of-orderness, refunds dropped, revenue per customer and hour (1-hour tumbling windows).
-- The same text runs on Apache Flink's SQL client (sql-client.sh -f); only the WITH options name
-- other files or topics.
--   weir sql -f examples/sql/revenue.sql          (npm run demo:sql)

CREATE TABLE orders (
  order_id BIGINT,
  customer STRING,
  amount BIGINT,
  ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '30' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'examples/sql/orders.csv', 'format' = 'csv');

CREATE TABLE hourly_revenue (
  customer STRING,
  window_start TIMESTAMP(3),
  revenue BIGINT
) WITH ('connector' = 'print');

INSERT INTO hourly_revenue
SELECT customer, window_start, SUM(amount) AS revenue
FROM TABLE(TUMBLE(TABLE orders, DESCRIPTOR(ts), INTERVAL '1' HOUR))
WHERE amount > 0
GROUP BY customer, window_start, window_end;
