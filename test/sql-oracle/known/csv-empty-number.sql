-- Known weir difference: an empty CSV field of an INT column. Flink's csv format fails the job (NumberFormatException
-- for input ""; NULL needs 'csv.null-literal'), weir reads NULL.
CREATE TABLE t (id INT, name STRING, qty INT)
WITH ('connector' = 'filesystem', 'path' = 'test/sql-oracle/cases/data/empty-fields.csv', 'format' = 'csv');

SELECT id, name, qty FROM t;
