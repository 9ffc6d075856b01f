import { defineConfig } from 'vitest/config';

/**
 * Suites that run a second time with keyed state in RocksDB (a cache of 64 keys, so state goes
 * through disk): keyed state, timers, windows, joins, and the fault-tolerance chaos cases.
 */
const ROCKSDB_SUITES = [
  'test/state/keyed-state-types.test.ts',
  'test/state/state-ttl-expiry.test.ts',
  'test/state/keyed-state-namespaces.test.ts',
  'test/api/broadcast-state.test.ts',
  'test/actors/keyed-timers-and-ttl.test.ts',
  'test/windows/**/*.test.ts',
  'test/time/**/*.test.ts',
  'test/api/word-count.test.ts',
  'test/api/datastream-operators.test.ts',
  'test/api/joins-*.test.ts',
  'test/api/side-outputs-and-connect.test.ts',
  'test/checkpoint/chaos-exactly-once.test.ts',
  'test/sql/window-aggregates.test.ts',
  'test/sql/sql-savepoint-restore.test.ts',
  'test/sql/changelog-operators.test.ts',
  'test/sql/joins-temporal.test.ts',
  'test/sql/changelog-fold.property.test.ts',
  'test/sql/changelog-join.property.test.ts',
  'test/checkpoint/savepoint-restore.test.ts',
  'test/checkpoint/local-stop-with-savepoint.test.ts',
];

/**
 * Test files that spend most of their time waiting on a service of their own (a Kafka broker, Apache Flink's
 * MiniCluster in a JVM) or on npm: the `services` project. Running it in a second vitest process beside the
 * others was tried (2026-12-02): at a load of 4–6 the CPU-bound files slowed by about as much as the overlap
 * saved (1,369 s in all against 1,255 s before ~100 more tests) and two timing-sensitive tests failed.
 */
export const SERVICE_SUITES = [
  'test/kafka/**/*.test.ts',
  'test/sql-oracle/**/*.test.ts',
  'test/sql/seed-pipeline-kafka.test.ts',
  // packs and installs the package with npm: mostly child processes and disk
  'test/package/package-install.test.ts',
  // drives a headless Chromium (a browser process of its own) against a running job: once, not per state backend
  'test/observe/*.browser.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    // The heap and rocksdb projects run their files one after another in one process (isolate: false): a fresh
    // process and module graph per file cost about 1 s a file (37 SQL files: 159 s isolated, 114 s not, 2026-12-03).
    // Files clean up after themselves (jobs cancelled, temp folders removed per file by temp-per-file.ts); the
    // services project keeps a process per file (brokers, JVMs and npm children are its files' own).
    // A temp folder of the suite's own, emptied after each test file and removed at the end.
    globalSetup: ['test/setup/suite-temp-dir.ts'],
    setupFiles: ['test/setup/temp-per-file.ts'],
    projects: [
      { extends: true, test: { name: 'heap', include: ['test/**/*.test.ts'], exclude: SERVICE_SUITES, isolate: false } },
      { extends: true, test: { name: 'services', include: SERVICE_SUITES } },
      {
        extends: true,
        test: {
          name: 'rocksdb',
          include: ROCKSDB_SUITES,
          env: { WEIR_STATE_BACKEND: 'rocksdb', WEIR_ROCKSDB_CACHE_KEYS: '64' },
          isolate: false,
        },
      },
    ],
  },
});
