// Per test file: whatever the file created in the suite's temp folder is removed after its last test (the tests' checkpoint, savepoint and output folders).
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const before = new Set(readdirSync(tmpdir()));

afterAll(() => {
  for (const name of readdirSync(tmpdir())) {
    if (!before.has(name)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
});
