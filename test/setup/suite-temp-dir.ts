// Global setup: the suite runs with a temp folder of its own (TMPDIR), removed when it ends, so a run leaves nothing in the OS temp folder.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopBroker } from '../../scripts/kafka/broker.mjs';

export default function setup(): (() => Promise<void>) | undefined {
  // Each vitest project runs the global setup: the first one makes the folder, the others share it.
  if (process.env.WEIR_SUITE_TMPDIR) return undefined;
  const previous = process.env.TMPDIR;
  const dir = mkdtempSync(join(tmpdir(), 'weir-suite-'));
  // Test files run in forked processes started after this, so they inherit it (os.tmpdir() reads TMPDIR).
  process.env.TMPDIR = dir;
  process.env.WEIR_SUITE_TMPDIR = dir;
  // The shared Kafka broker's folder (test/setup/shared-broker.ts), made now so that no test file counts it as its own.
  const kafkaDir = join(dir, 'kafka-shared');
  mkdirSync(kafkaDir);
  process.env.WEIR_SUITE_KAFKA_DIR = kafkaDir;
  return async () => {
    await stopBroker({ dataDir: kafkaDir, removeData: true });
    delete process.env.WEIR_SUITE_KAFKA_DIR;
    const left = readdirSync(dir);
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    delete process.env.WEIR_SUITE_TMPDIR;
    rmSync(dir, { recursive: true, force: true });
    if (left.length > 0)
      process.stderr.write(`suite temp folder: removed ${left.length} entr${left.length === 1 ? 'y' : 'ies'} left by test files\n`);
  };
}
