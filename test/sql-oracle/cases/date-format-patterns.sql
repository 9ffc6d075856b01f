-- DATE_FORMAT with Java's pattern letters (EEE, yy): 'Thu 12.04.90', as Flink's.
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
