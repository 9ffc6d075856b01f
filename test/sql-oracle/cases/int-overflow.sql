-- INT + INT past 2^31 - 1 wraps around, as Flink's (Java's) int arithmetic.
CREATE TABLE people (
    id INT,
    name STRING,
    age INT,
    score DOUBLE,
    active BOOLEAN,
    city STRING,
    born TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/people.json', 'format' = 'json');

SELECT id, age + 2147483647 AS wrapped FROM people WHERE id IN (1, 4);
