-- Math functions: ABS, MOD, ROUND, FLOOR, CEIL, POWER, and DOUBLE arithmetic.
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
       ABS(age) AS abs_age,
       MOD(age, 3) AS mod3,
       ROUND(score, 1) AS r1,
       ROUND(score) AS r0,
       FLOOR(score) AS fl,
       CEIL(score) AS ce,
       POWER(score, 2) AS sq,
       score / 3 AS third
FROM people;
