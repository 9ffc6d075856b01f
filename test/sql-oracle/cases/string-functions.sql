-- String functions: ||, CONCAT, UPPER, LOWER, TRIM, CHAR_LENGTH, SUBSTRING, REGEXP_EXTRACT, SPLIT_INDEX.
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
       name || '!' AS shout,
       CONCAT(name, '-', city) AS joined,
       UPPER(name) AS up,
       LOWER(name) AS low,
       TRIM(name) AS trimmed,
       CHAR_LENGTH(city) AS city_len,
       SUBSTRING(name, 2) AS tail,
       SUBSTRING(name FROM 1 FOR 3) AS head,
       REGEXP_EXTRACT(name, '([a-z]+)_([a-z]+)', 2) AS second_word,
       SPLIT_INDEX(city, ' ', 1) AS city_second,
       name LIKE '%\_%' ESCAPE '\' AS has_underscore,
       SUBSTRING(name, 2, 100) AS long_tail,
       name || CAST(NULL AS STRING) AS with_null,
       CONCAT(name, CAST(NULL AS STRING)) AS concat_null
FROM people;
