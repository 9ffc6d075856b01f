-- Known weir difference: DATETIME is a reserved word of Flink 2.3's parser; an unquoted `dateTime` column fails to
-- parse there ("Encountered "dateTime""), weir takes it as a name.
CREATE TABLE t (v INT, dateTime TIMESTAMP(3))
WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/every-5s.json', 'format' = 'json');

SELECT v FROM t;
