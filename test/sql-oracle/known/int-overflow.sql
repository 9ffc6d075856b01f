-- Known weir difference: INT arithmetic wraps at 32 bits in Flink (Java int); weir's result leaves the INT range.
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
