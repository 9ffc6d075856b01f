// Per test file: whatever the file created in the suite's temp folder is removed after its last test (the tests' checkpoint, savepoint and output folders).
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const before = new Set(readdirSync(tmpdir()));

// The CLI logs JSON when stderr is not a terminal (as in every spawned test) and `weir: …` lines on
// one; the suites that read its lines ask for those. test/cli/cli-logs.test.ts checks the JSON form.
process.env.WEIR_LOG_FORMAT ??= 'pretty';

afterAll(() => {
  for (const name of readdirSync(tmpdir())) {
    if (!before.has(name)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
});
