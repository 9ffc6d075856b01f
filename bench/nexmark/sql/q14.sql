-- Nexmark q14, calculation: bids priced between 1 M and 50 M euro cents, with a time-of-day class and a user-defined
-- function counting the 'c's in extra. weir loads count_char from a TypeScript module (docs/sql.md, user-defined
-- functions); Flink loads a Java class, which the Flink oracle (bench/flink SqlRunner) registers in its place:
-- oracle-flink-function: count_char = dev.weir.bench.flink.CountChar
CREATE FUNCTION count_char AS 'bench/nexmark/functions.ts#countChar';

CREATE TABLE nexmark_q14 (
    auction BIGINT,
    bidder BIGINT,
    price DECIMAL(23, 3),
    bidTimeType VARCHAR,
    `dateTime` TIMESTAMP(3),
    extra VARCHAR,
    c_counts BIGINT
) WITH ('connector' = 'blackhole');

INSERT INTO nexmark_q14
SELECT
    auction,
    bidder,
    0.908 * price AS price,
    CASE
        WHEN HOUR(`dateTime`) >= 8 AND HOUR(`dateTime`) <= 18 THEN 'dayTime'
        WHEN HOUR(`dateTime`) <= 6 OR HOUR(`dateTime`) >= 20 THEN 'nightTime'
        ELSE 'otherTime'
    END AS bidTimeType,
    `dateTime`,
    extra,
    count_char(extra, 'c') AS c_counts
FROM bid
WHERE 0.908 * price > 1000000 AND 0.908 * price < 50000000;
