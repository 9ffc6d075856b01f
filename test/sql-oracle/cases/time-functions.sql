-- Time functions: DATE_FORMAT, EXTRACT, HOUR/MINUTE/SECOND/YEAR/MONTH, TO_TIMESTAMP, TO_TIMESTAMP_LTZ, ± INTERVAL.
CREATE TABLE people (
    id INT,
    name STRING,
    age INT,
    score DOUBLE,
    active BOOLEAN,
    city STRING,
    born TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/people.json', 'format' = 'json');

SELECT id,
       DATE_FORMAT(born, 'yyyy-MM-dd HH:mm') AS day_minute,
       EXTRACT(YEAR FROM born) AS y,
       EXTRACT(DAY FROM born) AS d,
       HOUR(born) AS h,
       MINUTE(born) AS mi,
       SECOND(born) AS s,
       YEAR(born) AS yy,
       MONTH(born) AS mm,
       born + INTERVAL '90' MINUTE AS later,
       born - INTERVAL '2' DAY AS earlier,
       TO_TIMESTAMP('2024-03-05 06:07:08') AS parsed,
       TO_TIMESTAMP_LTZ(CAST(id AS BIGINT) * 1000, 3) AS from_ms,
       TIMESTAMP '2024-01-01 00:00:00' + INTERVAL '1' HOUR AS lit,
       EXTRACT(MILLISECOND FROM born) AS millis,
       CAST('2024-01-01 10:00:00' AS TIMESTAMP(3)) AS cast_ts,
       TO_TIMESTAMP_LTZ(1700000000, 0) AS from_s
FROM people;
