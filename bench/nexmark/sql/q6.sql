-- Nexmark q6, average selling price by seller: per seller, the average final price of its last closed auctions
-- (the current one and the 10 before it). Flink Nexmark's text (OVER on `GROUP BY A.id, A.seller`) is refused by
-- Flink 2.3: its B.dateTime is not grouped, and with it aggregated the OVER input is updating and not ordered by a
-- time attribute. Here the GROUP BY is a window per auction on the auction's time attribute, so the final prices
-- come out append-only, once each auction's window has passed the watermark, ordered by that window's rowtime. It
-- needs the bids of an auction before the watermark passes the auction's dateTime: true when auctions last less
-- than the 4 s watermark delay (the generator's longest is 3.3 s at 1,000 events/s); the join's upper bound of
-- 10 s (with B.dateTime <= A.expires) makes it an interval join, which keeps the time attribute.
CREATE TABLE nexmark_q6 (
    seller BIGINT,
    avg_price BIGINT
) WITH ('connector' = 'blackhole');

INSERT INTO nexmark_q6
SELECT Q.seller, AVG(Q.final) OVER (PARTITION BY Q.seller ORDER BY Q.closed ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)
FROM (
    SELECT A.seller, MAX(B.price) AS final, TUMBLE_ROWTIME(A.`dateTime`, INTERVAL '0.001' SECOND) AS closed
    FROM auction AS A, bid AS B
    WHERE A.id = B.auction
      AND B.`dateTime` BETWEEN A.`dateTime` AND A.`dateTime` + INTERVAL '10' SECOND
      AND B.`dateTime` <= A.expires
    GROUP BY A.id, A.seller, TUMBLE(A.`dateTime`, INTERVAL '0.001' SECOND)
) AS Q;
