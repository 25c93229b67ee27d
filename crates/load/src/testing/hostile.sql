-- Hostile queries for the SQL surfaces (query_history, the dashboard's SQL box and CSV, bdi load
-- query), each run on both engines unless it names one. A line is
--   ENGINE | EXPECTED | SQL
-- ENGINE: both, duckdb or postgres. EXPECTED: rows (a result), refused (turned down before it
-- ran), not-rows (refused, failed or the
-- worker died), any (only that the server answers afterwards). `\r` and `\n` in SQL are a
-- carriage return and a line feed. A function only a superuser (or a member of pg_read_server_files
-- and the like) may call is `not-rows`: the reader role is denied it by PostgreSQL, and a role that
-- may call it is refused before any query runs; one that every role may call is `refused`. Every query runs on a dataset with a table `runs` (3 rows);
-- after each one the surface must still answer `SELECT count(*) AS n FROM runs` with 3.
both | rows | SELECT count(*) FROM runs
both | rows | SELECT 'a; DROP TABLE runs' AS s, id FROM runs /* ; DELETE FROM runs */
both | refused | DELETE FROM runs
both | refused | SELECT 1; SELECT 2
both | refused | SELECT 1 /* x */ ; DROP TABLE runs
both | refused | WITH d AS (DELETE FROM runs RETURNING *) SELECT * FROM d
both | refused | COPY (SELECT 1) TO '/tmp/bdi-hostile.csv'
both | refused | SET search_path = x
both | not-rows | SELECT 1 --\r; SET memory_limit = '100GB'; SELECT 2
both | not-rows | SELECT 1 --\r; CREATE TEMP TABLE t AS SELECT 1; SELECT 2
both | not-rows | SELECT 1 --\r; CHECKPOINT; SELECT 1
both | not-rows | SELECT 1 --\r; SET threads = 64; SELECT 1
both | not-rows | SELECT 1 --\r; COMMIT; SELECT 1
duckdb | refused | ATTACH '/tmp/bdi-hostile.duckdb' AS x
duckdb | refused | INSTALL httpfs
duckdb | refused | PRAGMA version
duckdb | not-rows | SELECT CASE WHEN (SELECT count(*) FROM enable_logging(storage = 'file', storage_path = '/tmp/bdi-hostile-log')) = 0 THEN error('boom') END
duckdb | not-rows | SELECT * FROM enable_logging(storage = 'file', storage_path = '/tmp/bdi-hostile-log')
duckdb | not-rows | SELECT * FROM read_csv('/etc/passwd')
duckdb | not-rows | SELECT * FROM read_text('/etc/passwd')
duckdb | not-rows | SELECT * FROM glob('/etc/*')
duckdb | any | SELECT * FROM range(300000000)
duckdb | any | SELECT repeat('y', 1000000) FROM range(5000)
duckdb | any | SELECT count(*) FROM range(100000000) a, range(10) b
duckdb | any | SELECT list(range) FROM range(50000000)
postgres | any | SELECT a.g * b.g FROM generate_series(1, 20000) a(g), generate_series(1, 20000) b(g)
postgres | any | SELECT repeat('y', 1000000) FROM generate_series(1, 5000)
postgres | not-rows | SELECT pg_read_file('/etc/passwd')
postgres | not-rows | SELECT pg_read_binary_file('/etc/passwd')
postgres | not-rows | SELECT * FROM pg_ls_dir('/')
postgres | not-rows | SELECT pg_stat_file('/etc/passwd')
postgres | refused | SELECT pg_terminate_backend(pid) FROM pg_stat_activity
postgres | refused | SELECT pg_cancel_backend(pg_backend_pid())
postgres | not-rows | SELECT pg_reload_conf()
postgres | not-rows | SELECT pg_switch_wal()
postgres | not-rows | SELECT pg_rotate_logfile()
postgres | refused | SELECT set_config('default_transaction_read_only', 'off', false)
postgres | not-rows | SELECT lo_import('/etc/passwd')
postgres | refused | SELECT lo_creat(-1)
postgres | refused | SELECT lo_unlink(1)
postgres | refused | SELECT pg_advisory_lock(1)
postgres | refused | SELECT pg_catalog.pg_try_advisory_xact_lock(1)
postgres | refused | SELECT pg_notify('channel', 'message')
postgres | refused | SELECT query_to_xml('SELECT pg_terminate_backend(1)', true, true, '')
postgres | refused | SELECT "pg_terminate_backend"(1)
postgres | refused | SELECT 'a\nb' AS s, pg_terminate_backend(1)
postgres | refused | SELECT x FROM (SELECT pg_terminate_backend(1) AS x OFFSET 0) s
postgres | refused | SELECT count(*) FROM runs WHERE pg_cancel_backend(1)
postgres | not-rows | SELECT * FROM pg_shadow
postgres | not-rows | SELECT dblink_exec('dbname=postgres', 'CREATE TABLE x (a int)')
