//! Chaos benchmark: a long keyed job under many random worker kills; every key's sequence must arrive exactly once and in order.
//
//   npm run bench:chaos                          100 kills, 3M records (several minutes)
//   npm run bench:chaos -- --quick               10 kills, 200k records
//   npm run bench:chaos -- --kills 200 --records 5000000 --seed 42
//   npm run bench:chaos -- --process --kills 20  whole-process kill -9s of `weir run`, each resumed with --resume
//
// The job (bench/jobs/ckpt-chaos.ts) plays per-key sequences through a checker with keyed state
// into the exactly-once collect sink. After the first completed checkpoint of each attempt, a
// random worker is killed after a random delay (seeded; the seed is printed), until `--kills`
// kills happened; then the job runs to its end. The source is rate-limited so that the job
// outlives the kills: by default records / (kills × 1 s), since an attempt makes about a second
// of progress before its kill. The output is then checked: per key, 0 … perKey-1 exactly once,
// in order.
//
// With --process, the victim is the whole `weir run` process (SIGKILL, as an operator's crash or
// an OOM kill): the job writes its codes with the exactly-once file sink and checkpoints to a
// folder; once a run's folder holds its first checkpoint, the process is killed after a random
// delay, and the next run starts with `--resume`, until `--kills` kills happened; the last run
// ends the job. The committed part files are then checked the same way.

import { dirname, join } from 'node:path';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startJob, type CompletedCheckpoint } from '../src/index.ts';
import { CHAOS_OUT_ID } from './jobs/ckpt-chaos.ts';
import { formatCount, machineInfo, machineLine, median, sourceRevision, textTable } from './lib/report.ts';
import { mulberry32 as prng } from './lib/random.ts';
import { runWeirProcess, type WeirProcessOutcome } from './lib/weir-process.ts';

const here = dirname(fileURLToPath(import.meta.url));
const JOB = join(here, 'jobs', 'ckpt-chaos.ts');

/** What the command line asked for. */
interface Options {
  quick: boolean;
  /** Kill the whole `weir run` process instead of a worker thread. */
  process: boolean;
  kills: number;
  records: number;
  keys: number;
  parallelism: number;
  intervalMs: number;
  rate: number;
  maxKillDelayMs: number;
  seed: number;
  out: string;
}

/** One injected failure. */
interface Kill {
  n: number;
  attempt: number;
  slot: number;
  afterCheckpoint: number;
  delayMs: number;
  atEpochMs: number;
  /** Kill → first checkpoint of the next attempt completed (processing and checkpointing again). */
  toNextCheckpointMs?: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      process: { type: 'boolean', default: false },
      kills: { type: 'string' },
      records: { type: 'string' },
      keys: { type: 'string' },
      parallelism: { type: 'string' },
      interval: { type: 'string' },
      rate: { type: 'string' },
      'max-kill-delay': { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`usage: tsx bench/chaos.ts [options]
  --quick               10 kills, 200k records; results to bench/results/chaos-quick.json
  --process             kill -9 the whole \`weir run\` process, then \`weir run --resume\` (file sink output)
  --kills N             worker kills to inject (default 100)
  --records N           records in all (default 3M; rounded down to a multiple of --keys)
  --keys N              keys, each with records / keys sequence steps (default 1000)
  --parallelism P       (default 2)
  --interval MS         checkpoint interval (default 500)
  --rate R              source records/s over all subtasks (default records / (kills × 1 s))
  --max-kill-delay MS   a kill comes uniformly within this long after the attempt's first checkpoint (default 2 × interval)
  --seed S              PRNG seed for kill times and victims (default: random, printed)
  --out FILE            where to write the JSON results`);
    process.exit(0);
  }
  const num = (text: string | undefined, fallback: number, what: string, min = 1): number => {
    if (text === undefined) return fallback;
    const n = Number(text.replace(/_/g, ''));
    if (!Number.isSafeInteger(n) || n < min) throw new RangeError(`${what} must be an integer ≥ ${min}, got ${text}`);
    return n;
  };
  const quick = values.quick;
  const kills = num(values.kills, quick ? 10 : 100, '--kills', 0);
  const keys = num(values.keys, 1000, '--keys');
  const parallelism = num(values.parallelism, 2, '--parallelism');
  if (keys % parallelism !== 0) throw new RangeError(`--keys must be a multiple of --parallelism`);
  const perKey = Math.floor(num(values.records, quick ? 200_000 : 3_000_000, '--records') / keys);
  const records = perKey * keys;
  const intervalMs = num(values.interval, 500, '--interval');
  return {
    quick,
    process: values.process,
    kills,
    records,
    keys,
    parallelism,
    intervalMs,
    rate: num(values.rate, Math.round(records / Math.max(1, kills)), '--rate'),
    maxKillDelayMs: num(values['max-kill-delay'], 2 * intervalMs, '--max-kill-delay', 0),
    seed: num(values.seed, Math.floor(Math.random() * 2 ** 31), '--seed', 0),
    out: values.out ?? join(here, 'results', `chaos${values.process ? '-process' : ''}${quick ? '-quick' : ''}.json`),
  };
}

/** What the output check found. */
interface Verification {
  /** Records in order, each once. */
  verified: number;
  duplicates: number;
  gaps: number;
  /** Out-of-order steps the checker saw in the job (emitted as negative codes). */
  checkerViolations: number;
  /** Keys whose sequence did not reach its end. */
  incompleteKeys: number;
  ok: boolean;
  firstProblem?: string;
}

/** Checks per key: 0 … perKey-1, each exactly once, in order. */
function verify(out: readonly number[], keys: number, perKey: number): Verification {
  const next = new Int32Array(keys);
  let verified = 0;
  let duplicates = 0;
  let gaps = 0;
  let checkerViolations = 0;
  let firstProblem: string | undefined;
  for (const code of out) {
    if (code < 0) {
      checkerViolations++;
      const c = -1 - code;
      firstProblem ??= `checker saw key ${Math.floor(c / perKey)} step ${c % perKey} out of order`;
      continue;
    }
    const key = Math.floor(code / perKey);
    const seq = code - key * perKey;
    if (seq === next[key]) {
      next[key]++;
      verified++;
    } else if (seq < next[key]) {
      duplicates++;
      firstProblem ??= `key ${key}: step ${seq} again (expected ${next[key]})`;
    } else {
      gaps++;
      firstProblem ??= `key ${key}: step ${seq} after ${next[key] - 1} (gap)`;
      next[key] = seq + 1;
    }
  }
  let incompleteKeys = 0;
  for (let k = 0; k < keys; k++) if (next[k] !== perKey) incompleteKeys++;
  if (incompleteKeys > 0) firstProblem ??= `${incompleteKeys} key(s) did not reach step ${perKey - 1}`;
  return {
    verified,
    duplicates,
    gaps,
    checkerViolations,
    incompleteKeys,
    ok: duplicates === 0 && gaps === 0 && checkerViolations === 0 && incompleteKeys === 0 && verified === keys * perKey,
    firstProblem,
  };
}

const percentile = (values: number[], q: number) => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
};
const ms = (v: number | undefined) => (v === undefined ? '—' : v >= 100 ? v.toFixed(0) : v.toFixed(1));

/** One whole-process run of the job, as `weir run` in a child process. */
interface ProcessRun {
  n: number;
  /** The checkpoint it resumed from (`chk-N` of a killed run), if any. */
  resumedFrom?: string;
  /** Delay from its first completed checkpoint to its kill (undefined for the last run). */
  killDelayMs?: number;
  /** Checkpoints its run folder held when it ended. */
  checkpoints: number;
  wallMs: number;
  outcome: string;
}

/** Runs `weir run` of the chaos job once; with `killDelayMs`, SIGKILLs it that long after its run folder holds a checkpoint. */
function weirRun(args: string[], killDelayMs: number | undefined): Promise<WeirProcessOutcome> {
  return runWeirProcess(['run', JOB, ...args], killDelayMs);
}

/** The codes the file sink committed: each subtask's parts in part order (a key's steps are in one subtask's parts, in order). */
function readCodes(dir: string): { codes: number[]; hidden: number } {
  const parts = readdirSync(dir)
    .flatMap((name) => {
      const m = /^part-(\d+)-(\d+)$/.exec(name);
      return m ? [{ name, subtask: Number(m[1]), n: Number(m[2]) }] : [];
    })
    .sort((a, b) => a.subtask - b.subtask || a.n - b.n);
  const codes: number[] = [];
  for (const { name } of parts)
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) if (line !== '') codes.push(Number(line));
  return { codes, hidden: readdirSync(dir).filter((n) => n.startsWith('.')).length };
}

/** --process: kill -9 of the whole `weir run`, then `--resume`, `kills` times; checks the committed files. */
async function processMain(options: Options): Promise<void> {
  const machine = machineInfo();
  const perKey = options.records / options.keys;
  const startedAt = new Date();
  console.log(`weir chaos benchmark, whole-process kills — ${startedAt.toISOString()}`);
  console.log(machineLine(machine));
  console.log(
    `seed ${options.seed}; ${options.kills} kill -9s of \`weir run\`, each followed by \`weir run --resume\`; ${formatCount(options.records)} records = ${options.keys} keys × ${perKey}; p=${options.parallelism}; checkpoint every ${options.intervalMs} ms; source at ${options.rate} records/s; kill within ${options.maxKillDelayMs} ms after a run's first checkpoint`,
  );
  const random = prng(options.seed);
  const root = mkdtempSync(join(tmpdir(), 'weir-chaos-process-'));
  const files = join(root, 'out');
  const checkpoints = join(root, 'checkpoints');
  const args = ['-p', String(options.parallelism), '--checkpoint-dir', checkpoints];
  const params = { keys: options.keys, perKey, parallelism: options.parallelism, rate: options.rate, interval: options.intervalMs, files };
  for (const [k, v] of Object.entries(params)) args.push('--param', `${k}=${v}`);
  const runs: ProcessRun[] = [];
  const t0 = performance.now();
  try {
    for (let n = 1; n <= options.kills + 1; n++) {
      const last = n === options.kills + 1;
      const killDelayMs = last ? undefined : Math.round(random() * options.maxKillDelayMs);
      const started = performance.now();
      const run = await weirRun(n === 1 ? args : [...args, '--resume', checkpoints], killDelayMs);
      const folder = /weir: checkpoints go to (\S+)/.exec(run.stderr)?.[1];
      let held = 0;
      try {
        held = folder ? readdirSync(folder).filter((f) => /^chk-\d+$/.test(f)).length : 0;
      } catch {
        held = 0;
      }
      const resumedFrom = /weir: resuming from checkpoint \d+ at (\S+)/.exec(run.stderr)?.[1];
      runs.push({
        n,
        resumedFrom: resumedFrom ? resumedFrom.split('/').slice(-2).join('/') : undefined,
        killDelayMs,
        checkpoints: held,
        wallMs: performance.now() - started,
        outcome: run.signal ?? `exit ${run.code}`,
      });
      if (last ? run.code !== 0 : run.signal !== 'SIGKILL') {
        console.log(`run ${n} ended with ${run.signal ?? `exit code ${run.code}`}, not as planned:\n${run.stderr}`);
        if (!last) break;
      }
      if (n % 10 === 0) console.log(`  ${n} runs, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    const wallMs = performance.now() - t0;
    const { codes, hidden } = readCodes(files);
    const verification = verify(codes, options.keys, perKey);
    const kills = runs.filter((r) => r.outcome === 'SIGKILL').length;
    console.log();
    console.log(
      textTable(
        [
          'kill -9s',
          '>resumed from a checkpoint',
          '>records',
          '>verified',
          '>lost',
          '>dups',
          '>hidden files left',
          '>wall s',
          'exactly once',
        ],
        [
          [
            `${kills} / ${options.kills}`,
            String(runs.filter((r) => r.resumedFrom !== undefined).length),
            formatCount(options.records),
            String(verification.verified),
            String(options.records - verification.verified),
            String(verification.duplicates),
            String(hidden),
            (wallMs / 1000).toFixed(1),
            verification.ok ? 'yes' : `NO: ${verification.firstProblem}`,
          ],
        ],
      ),
    );
    console.log('\nper run (the last one ends the job)');
    console.log(
      textTable(
        ['run', 'resumed from', '>kill after 1st ckpt ms', '>ckpts in its folder', '>wall ms', 'ended'],
        runs.map((r) => [
          String(r.n),
          r.resumedFrom ?? '—',
          r.killDelayMs === undefined ? '—' : String(r.killDelayMs),
          String(r.checkpoints),
          r.wallMs.toFixed(0),
          r.outcome,
        ]),
      ),
    );
    const endLoad = machineInfo().loadAverage1m;
    console.log(`\nseed ${options.seed}; load average 1m: ${machine.loadAverage1m} at start, ${endLoad} at end`);
    mkdirSync(dirname(options.out), { recursive: true });
    writeFileSync(
      options.out,
      `${JSON.stringify(
        {
          benchmark: 'chaos-process',
          date: startedAt.toISOString(),
          revision: sourceRevision(),
          machine: { ...machine, loadAverage1mAtEnd: endLoad },
          config: { ...options, perKey, out: undefined },
          result: { wallMs: Math.round(wallMs), kills, verification, hiddenFilesLeft: hidden },
          runs: runs.map((r) => ({ ...r, wallMs: Math.round(r.wallMs) })),
        },
        null,
        2,
      )}\n`,
    );
    console.log(`results written to ${options.out}`);
    if (!verification.ok || hidden > 0) process.exitCode = 1;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const options = parseOptions();
  if (options.process) return processMain(options);
  const machine = machineInfo();
  const command = `tsx bench/chaos.ts${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
  const startedAt = new Date();
  const revision = sourceRevision();
  const perKey = options.records / options.keys;
  console.log(
    `weir chaos benchmark — ${startedAt.toISOString()}${revision ? ` — weir ${revision.commit}${revision.srcDirty ? ' + uncommitted src/ changes' : ''}` : ''}`,
  );
  console.log(machineLine(machine));
  console.log(
    `command: ${command}\nseed ${options.seed}; ${options.kills} kills; ${formatCount(options.records)} records = ${options.keys} keys × ${perKey}; p=${options.parallelism}; checkpoint every ${options.intervalMs} ms; source at ${options.rate} records/s; kill within ${options.maxKillDelayMs} ms after an attempt's first checkpoint`,
  );

  const random = prng(options.seed);
  const kills: Kill[] = [];
  const checkpoints: { id: number; attempt: number; durationMs: number; bytes: number; completedEpochMs: number }[] = [];
  const armed = new Set<number>();
  let failedKills = 0;
  let lastAttempt = 0;
  const t0 = performance.now();
  const epochNow = () => performance.timeOrigin + performance.now();

  const client = await startJob(JOB, {
    parallelism: options.parallelism,
    params: {
      keys: options.keys,
      perKey,
      parallelism: options.parallelism,
      rate: options.rate,
      interval: options.intervalMs,
      restarts: options.kills + 10,
      restartDelay: 10,
    },
    onCheckpoint: (checkpoint: CompletedCheckpoint, attempt, c) => {
      const now = epochNow();
      checkpoints.push({ id: checkpoint.id, attempt, durationMs: checkpoint.durationMs, bytes: checkpoint.bytes, completedEpochMs: now });
      if (attempt !== lastAttempt) {
        lastAttempt = attempt;
        const previous = kills.at(-1);
        if (previous && previous.toNextCheckpointMs === undefined && attempt > previous.attempt)
          previous.toNextCheckpointMs = now - previous.atEpochMs;
      }
      if (kills.length + armed.size >= options.kills || armed.has(attempt) || kills.some((k) => k.attempt === attempt)) return;
      armed.add(attempt);
      const delayMs = random() * options.maxKillDelayMs;
      const slot = Math.floor(random() * options.parallelism);
      setTimeout(() => {
        armed.delete(attempt);
        if (attempt !== lastAttempt || kills.length >= options.kills) return;
        const kill: Kill = { n: kills.length + 1, attempt, slot, afterCheckpoint: checkpoint.id, delayMs, atEpochMs: epochNow() };
        kills.push(kill);
        c.killWorker(slot).catch(() => {
          failedKills++;
          kills.pop();
        });
        if (kill.n % 10 === 0 || kill.n === options.kills) {
          const recent = kills.slice(-10).flatMap((k) => (k.toNextCheckpointMs === undefined ? [] : [k.toNextCheckpointMs]));
          process.stdout.write(
            `  ${String(kill.n).padStart(4)} kills, ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s, checkpoint ${checkpoint.id}; kill → next checkpoint, median of the last ${recent.length}: ${ms(recent.length ? median(recent) : undefined)} ms\n`,
          );
        }
      }, delayMs);
    },
  });

  const result = await client.result;
  const wallMs = performance.now() - t0;
  const out = (result.collected[CHAOS_OUT_ID] ?? []) as number[];
  const verification = verify(out, options.keys, perKey);
  const ft = result.faultTolerance;
  const toNext = kills.map((k) => k.toNextCheckpointMs).filter((v): v is number => v !== undefined);

  console.log();
  console.log(
    textTable(
      [
        'kills',
        '>restarts',
        '>ckpts done',
        '>ckpts failed',
        '>records',
        '>verified',
        '>dups',
        '>gaps',
        '>checker',
        '>wall s',
        'exactly once, in order',
      ],
      [
        [
          `${kills.length} / ${options.kills}`,
          String(ft.restarts),
          String(ft.checkpointsCompleted),
          String(ft.checkpointsFailed),
          formatCount(options.records),
          String(verification.verified),
          String(verification.duplicates),
          String(verification.gaps),
          String(verification.checkerViolations),
          (wallMs / 1000).toFixed(1),
          verification.ok ? 'yes' : `NO: ${verification.firstProblem}`,
        ],
      ],
    ),
  );
  console.log('\nrecovery per restart (ms)');
  console.log(
    textTable(
      ['measure', '>n', '>median', '>p90', '>max', '>min'],
      [
        ['master: failure → new attempt running', ft.recoveryMs],
        ['kill → first checkpoint of the new attempt', toNext],
      ].map(([label, values]) => {
        const v = values as number[];
        return [
          label as string,
          String(v.length),
          ms(percentile(v, 0.5)),
          ms(percentile(v, 0.9)),
          ms(v.length ? Math.max(...v) : undefined),
          ms(v.length ? Math.min(...v) : undefined),
        ];
      }),
    ),
  );
  if (kills.length < options.kills) {
    console.log(
      `\nonly ${kills.length} of ${options.kills} kills: the job ended first (lower --rate or raise --records)${failedKills ? `; ${failedKills} kill call(s) failed` : ''}`,
    );
  }
  const endLoad = machineInfo().loadAverage1m;
  console.log(
    `\nseed ${options.seed}; load average 1m: ${machine.loadAverage1m} at start, ${endLoad} at end (2-core machine: other processes add noise)`,
  );

  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(
    options.out,
    `${JSON.stringify(
      {
        benchmark: 'chaos',
        date: startedAt.toISOString(),
        command,
        revision,
        machine: { ...machine, loadAverage1mAtEnd: endLoad },
        config: { ...options, perKey, out: undefined },
        result: {
          wallMs: Number(wallMs.toFixed(0)),
          kills: kills.length,
          failedKillCalls: failedKills,
          verification,
          faultTolerance: { ...ft, recoveryMs: ft.recoveryMs.map((v) => Number(v.toFixed(1))) },
          recoveryMs: { median: percentile(ft.recoveryMs, 0.5), p90: percentile(ft.recoveryMs, 0.9), max: Math.max(...ft.recoveryMs, 0) },
          killToNextCheckpointMs: { median: percentile(toNext, 0.5), p90: percentile(toNext, 0.9), max: Math.max(...toNext, 0) },
          checkpointDurationMs: {
            median: percentile(
              checkpoints.map((c) => c.durationMs),
              0.5,
            ),
            max: Math.max(0, ...checkpoints.map((c) => c.durationMs)),
          },
        },
        kills: kills.map((k) => ({
          ...k,
          delayMs: Number(k.delayMs.toFixed(0)),
          atEpochMs: Math.round(k.atEpochMs),
          toNextCheckpointMs: k.toNextCheckpointMs === undefined ? undefined : Number(k.toNextCheckpointMs.toFixed(1)),
        })),
      },
      null,
      2,
    )}\n`,
  );
  console.log(`results written to ${options.out}`);
  if (!verification.ok) process.exitCode = 1;
}

await main();
