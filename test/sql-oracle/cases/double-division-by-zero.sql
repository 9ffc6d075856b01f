-- DOUBLE / 0.0 gives Infinity or -Infinity, as Flink's (Java's) double division.
CREATE TABLE people (
    id INT,
    name STRING,
    age INT,
    score DOUBLE,
    active BOOLEAN,
    city STRING,
    born TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/people.json', 'format' = 'json');

SELECT id, score / CAST(0 AS DOUBLE) AS q FROM people WHERE id IN (1, 2);
