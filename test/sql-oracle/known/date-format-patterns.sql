-- Known weir difference: DATE_FORMAT with Java's pattern letters EEE (day name) and yy (two-digit year): Flink
-- 'Thu 12.04.90', weir leaves the letters as they are ('EEE 12.04.yy').
CREATE TABLE people (
    id INT,
    name STRING,
    age INT,
    score DOUBLE,
    active BOOLEAN,
    city STRING,
    born TIMESTAMP(3)
) WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/people.json', 'format' = 'json');

SELECT id, DATE_FORMAT(born, 'EEE dd.MM.yy') AS styled FROM people WHERE id = 1;
