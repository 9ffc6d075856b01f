-- CASE (searched and simple), COALESCE, CAST and TRY_CAST between strings, numbers, booleans and timestamps.
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
       CASE WHEN age IS NULL THEN 'unknown' WHEN age < 18 THEN 'minor' WHEN age >= 60 THEN 'senior' ELSE 'adult' END AS band,
       CASE id WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END AS word,
       COALESCE(city, name, 'none') AS place,
       CAST(age AS STRING) AS age_text,
       CAST(score AS INT) AS score_int,
       CAST(id AS DOUBLE) / 4 AS quarter,
       TRY_CAST(city AS INT) AS city_num,
       CAST('42' AS BIGINT) + id AS forty_two,
       CAST(born AS STRING) AS born_text
FROM people;
