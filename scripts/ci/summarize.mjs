// Prints the plain CI summary line `N passed, N failed` from vitest's JSON report (the file given as argument).
import { readFileSync } from 'node:fs';

const file = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch (error) {
  console.log(`summary: no vitest JSON report at ${file} (${error.message})`);
  console.log('0 passed, 1 failed');
  process.exit(0);
}
const failedFiles = (report.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0);
for (const f of failedFiles) console.log(`file failed before running tests: ${f.name}: ${(f.message ?? '').split('\n')[0]}`);
// The slowest test files, so that the suite's time is visible in every CI log.
const files = (report.testResults ?? [])
  .map((f) => ({ name: f.name.replace(`${process.cwd()}/`, ''), ms: (f.endTime ?? 0) - (f.startTime ?? 0) }))
  .sort((a, b) => b.ms - a.ms);
const total = files.reduce((sum, f) => sum + f.ms, 0);
console.log(`slowest test files (of ${files.length}, ${Math.round(total / 1000)} s in all):`);
for (const f of files.slice(0, 15)) console.log(`  ${String(Math.round(f.ms / 100) / 10).padStart(6)} s  ${f.name}`);
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + failedFiles.length;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(skipped > 0 ? `${passed} passed, ${failed} failed, ${skipped} skipped` : `${passed} passed, ${failed} failed`);
