-- Three-valued logic: AND/OR/NOT over NULL, IS [NOT] TRUE/FALSE/NULL, comparisons and IN with NULL.
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
       active AND age > 18 AS a_and,
       active OR age > 18 AS a_or,
       NOT active AS a_not,
       active IS TRUE AS is_true,
       active IS NOT FALSE AS not_false,
       active IS NULL AS is_null,
       age > 18 AS adult,
       age IN (0, 17, 34) AS listed,
       city = '' AS empty_city,
       name IS NOT NULL AND CHAR_LENGTH(name) > 3 AS long_name
FROM people;
