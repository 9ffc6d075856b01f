-- CAST(DOUBLE AS STRING) as Java's Double.toString: 34.0 and 7.25E10, as Flink's.
CREATE TABLE people (
    id INT,
    name STRING,
    age INT,
    score DOUBLE,
    active BOOLEAN,
    city STRING,
    born TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/people.json', 'format' = 'json');

SELECT id, CAST(CAST(age AS DOUBLE) AS STRING) AS age_text, CAST(score * 1e10 AS STRING) AS big_text
FROM people WHERE id IN (1, 5);
