-- SUBSTRING from 0 (taken as 1) and from a negative start (counted from the end), as Flink's.
CREATE TABLE people (
    id INT,
    name STRING,
    age INT,
    score DOUBLE,
    active BOOLEAN,
    city STRING,
    born TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/people.json', 'format' = 'json');

SELECT id, SUBSTRING(name, 0, 2) AS from_zero, SUBSTRING(name, -2) AS from_end FROM people WHERE id = 1;
