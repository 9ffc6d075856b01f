-- Nexmark q13, bounded side input join: each bid enriched with the side input's value of key auction mod 10,000
-- (a lookup join on processing time; the side input is read once, with Flink Nexmark's legacy filesystem options,
-- which Flink 2.3 still looks up; the path is relative to the working directory: run from the repository root).
CREATE TABLE side_input (
    key BIGINT,
    `value` VARCHAR
) WITH (
    'connector.type' = 'filesystem',
    'connector.path' = 'bench/nexmark/data/side_input.txt',
    'format.type' = 'csv'
);

CREATE TABLE nexmark_q13 (
    auction BIGINT,
    bidder BIGINT,
    price BIGINT,
    `dateTime` TIMESTAMP(3),
    `value` VARCHAR
) WITH ('connector' = 'blackhole');

INSERT INTO nexmark_q13
SELECT B.auction, B.bidder, B.price, B.`dateTime`, S.`value`
FROM (SELECT *, PROCTIME() AS p_time FROM bid) B
JOIN side_input FOR SYSTEM_TIME AS OF B.p_time AS S
ON MOD(B.auction, 10000) = S.key;
