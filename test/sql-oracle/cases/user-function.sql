-- A user-defined scalar function (Nexmark q14's count_char): weir imports it from a TypeScript module, the Flink oracle
-- registers the Java class named below in its place; a NULL argument reaches the function, which counts 0.
-- oracle-flink-function: count_char = dev.weir.bench.flink.CountChar
CREATE FUNCTION count_char AS 'bench/nexmark/functions.ts#countChar';

CREATE TABLE people (
    id INT,
    name STRING,
    age INT,
    score DOUBLE,
    active BOOLEAN,
    city STRING,
    born TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/people.json', 'format' = 'json');

SELECT id, count_char(name, 'e') AS es, count_char(LOWER(name), 'a') + 1 AS a_plus_one, count_char(city, 'o') AS os
FROM people;
