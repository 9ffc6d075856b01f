-- Projections, arithmetic and a WHERE with AND/OR/BETWEEN/IN/LIKE, over rows with NULLs.
CREATE TABLE people (
    id INT,
    name STRING,
    age INT,
    score DOUBLE,
    active BOOLEAN,
    city STRING,
    born TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/people.json', 'format' = 'json');

SELECT id, age + 1 AS next_age, age * 2 - id AS calc, age / 2 AS half, age % 5 AS rem, -score AS neg, score * 2 AS doubled
FROM people
WHERE (age BETWEEN 0 AND 40 OR city IN ('Lyon', 'Paris')) AND name NOT LIKE '%x%';
