-- CASE without ELSE, COALESCE with an expression, <> and AND/NOT over NULL.
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
       score > 1 AND NOT active AS x,
       CASE WHEN active THEN 1 END AS c1,
       COALESCE(age, id * 100) AS ca,
       age <> 34 AS ne
FROM people;
