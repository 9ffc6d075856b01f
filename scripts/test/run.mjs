// `npm test`: the whole suite in two vitest processes side by side — the `services` project (files that wait on a
// Kafka broker or on Apache Flink in a JVM) and the others (`heap`, `rocksdb`) — so that time spent waiting on a
// service overlaps CPU-bound files. Each process runs its files one at a time, in a temp folder of its own.
//
// Arguments are passed to both processes. `--outputFile.json=F` gives each process its own report, merged into F
// at the end. Given file filters or `--project`, this runs one plain `vitest run` with the arguments instead.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const args = process.argv.slice(2);
const VITEST = ['node_modules/vitest/vitest.mjs', 'run'];

const filtered = args.some((a, i) => a === '--project' || a.startsWith('--project=') || (!a.startsWith('-') && !isOptionValue(i)));
function isOptionValue(i) {
  // `--reporter default` style: the word after an option that takes a value.
  const prev = args[i - 1];
  return prev !== undefined && prev.startsWith('--') && !prev.includes('=') && VALUE_OPTIONS.has(prev);
}
const VALUE_OPTIONS = new Set(['--reporter', '--outputFile', '--outputFile.json', '--testNamePattern', '-t', '--shard', '--maxWorkers']);

if (filtered) {
  const child = spawn(process.execPath, [...VITEST, ...args], { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  const lanes = [
    { name: 'services', projects: ['services'] },
    { name: 'main', projects: ['heap', 'rocksdb'] },
  ];
  const jsonOut = findJsonOutput(args);
  const started = Date.now();
  const results = await Promise.all(lanes.map((lane) => runLane(lane, jsonOut)));
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  for (const r of results) console.log(`lane ${r.lane.name}: exit ${r.code} after ${r.seconds} s`);
  console.log(`suite: ${seconds} s in all`);
  if (jsonOut !== undefined) mergeReports(jsonOut, results.map((r) => r.report));
  process.exit(results.some((r) => r.code !== 0) ? 1 : 0);
}

function findJsonOutput(list) {
  for (let i = 0; i < list.length; i++) {
    if (list[i].startsWith('--outputFile.json=')) return list[i].slice('--outputFile.json='.length);
    if (list[i] === '--outputFile.json') return list[i + 1];
  }
  return undefined;
}

function laneArgs(lane, jsonOut) {
  const out = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith('--outputFile.json=')) out.push(`--outputFile.json=${jsonOut}.${lane.name}`);
    else if (args[i] === '--outputFile.json') {
      out.push('--outputFile.json', `${jsonOut}.${lane.name}`);
      i++;
    } else out.push(args[i]);
  }
  for (const p of lane.projects) out.push('--project', p);
  return out;
}

function runLane(lane, jsonOut) {
  const started = Date.now();
  // Each process makes its own suite temp folder (test/setup/suite-temp-dir.ts), so the per-file cleanup of one
  // never sees the other's files.
  const env = { ...process.env };
  delete env.WEIR_SUITE_TMPDIR;
  const child = spawn(process.execPath, [...VITEST, ...laneArgs(lane, jsonOut)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `[${lane.name}] `;
  createInterface({ input: child.stdout }).on('line', (line) => process.stdout.write(prefix + line + '\n'));
  createInterface({ input: child.stderr }).on('line', (line) => process.stderr.write(prefix + line + '\n'));
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      resolve({
        lane,
        code: code ?? (signal ? 1 : 0),
        seconds: ((Date.now() - started) / 1000).toFixed(0),
        report: jsonOut === undefined ? undefined : `${jsonOut}.${lane.name}`,
      });
    });
  });
}

/** One vitest JSON report from the lanes' reports: counts summed, test files concatenated; a missing report is a failed file. */
function mergeReports(target, files) {
  const merged = {
    numTotalTestSuites: 0,
    numPassedTestSuites: 0,
    numFailedTestSuites: 0,
    numPendingTestSuites: 0,
    numTotalTests: 0,
    numPassedTests: 0,
    numFailedTests: 0,
    numPendingTests: 0,
    numTodoTests: 0,
    startTime: Number.POSITIVE_INFINITY,
    success: true,
    testResults: [],
  };
  for (const file of files) {
    let report;
    try {
      report = JSON.parse(readFileSync(file, 'utf8'));
      rmSync(file, { force: true });
    } catch (error) {
      merged.success = false;
      merged.numFailedTestSuites++;
      merged.testResults.push({ name: file, status: 'failed', message: `no vitest report from this lane (${error.message})`, assertionResults: [] });
      continue;
    }
    for (const key of Object.keys(merged)) {
      if (typeof merged[key] === 'number' && typeof report[key] === 'number' && key !== 'startTime') merged[key] += report[key];
    }
    merged.startTime = Math.min(merged.startTime, report.startTime ?? merged.startTime);
    merged.success &&= report.success !== false;
    merged.testResults.push(...(report.testResults ?? []));
  }
  writeFileSync(target, JSON.stringify(merged));
}
