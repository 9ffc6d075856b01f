-- SPLIT_INDEX and REGEXP_EXTRACT at their edges (Nexmark q21, q22): an index past the last piece, a negative index, an
-- empty string, NULL arguments; an optional group that did not take part, no match, the whole match (index 0).
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
       SPLIT_INDEX(city, ' ', 0) AS first_piece,
       SPLIT_INDEX(city, 'a', 1) AS after_a,
       SPLIT_INDEX(city, ' ', 5) AS past_end,
       SPLIT_INDEX(city, ' ', -1) AS negative,
       SPLIT_INDEX(name, '_', 1) AS after_underscore,
       REGEXP_EXTRACT(name, '^([A-Za-z]+)(_x)?', 2) AS optional_group,
       REGEXP_EXTRACT(name, 'e(.)', 1) AS after_e,
       REGEXP_EXTRACT(city, '[aeiou]+', 0) AS vowels,
       REGEXP_EXTRACT(city, 'zz(z)', 1) AS no_match,
       CASE WHEN LOWER(name) IN ('alice', 'bob') THEN '0' ELSE REGEXP_EXTRACT(name, '(&|^)d(a)', 2) END AS picked
FROM people;
