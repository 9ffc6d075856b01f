-- Known weir difference: SUBSTRING with a start of 0 or below. Flink: start 0 acts as 1 (SUBSTRING('Alice', 0, 2) =
-- 'Al'), a negative start counts from the end (SUBSTRING('Alice', -2) = 'ce'). weir: 'A' and 'Alice'.
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
