//! Stress for unaligned-checkpoint restores: the chaos-sequences job under many faults at random moments; counts restored attempts whose checker saw a gap or a repeat.
//
//   npm run bench:unaligned-stress                         40 runs per mode (aligned control, unaligned, unaligned + aligned timeout)
//   npm run bench:unaligned-stress -- --runs 10 --burn 2   10 runs per mode with 2 busy-loop processes adding CPU load
//   npm run bench:unaligned-stress -- --modes unaligned --seed 7
//
// Each run draws (seeded, printed) a fault plan: up to 3 faults, one per attempt, each one of
//   kill-complete   killWorker right after a checkpoint completed (before its commit)
//   kill-triggered  killWorker 0–15 ms after a checkpoint was triggered (barriers in flight)
//   kill-random     killWorker 0–400 ms after the attempt's first completed checkpoint
//   hang            the checker loops forever (fixture fault 'hang'); found by heartbeat timeout
//   drop-live       a short heartbeat timeout (150–400 ms): a worker that is alive but slow
//                   under load is dropped by the supervisor while it still runs and sends
//   reader-done     killWorker right after the first checkpoint in which one source reader has
//                   finished while another still has records and unshipped output batches
//                   (the restore that lost records before sources kept their own ranges)
// --job skewed runs test/fixtures/jobs/split-owner-sequences.ts instead: reader 0's records go
// to a fast checker, reader 1's to a slow one, so reader 1 lags with unshipped batches after
// reader 0 has finished, and every run meets the reader-done moment.
// The fixture's checker throws `key K: expected seq S, got T` on any gap or repeat; every attempt
// failure with that message after a restore is a broken restore and is counted. The final output
// is also checked (each key's sequence once, in order). No timing is asserted: it only counts.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FAST_KEY, SLOW_KEY } from '../test/fixtures/jobs/split-owner-sequences.ts';
import { startJob, type CompletedCheckpoint, type JobResult } from '../src/index.ts';
import { operatorsOf } from '../src/scheduler/restore.ts';
import { mulberry32 as prng } from './lib/random.ts';

const here = dirname(fileURLToPath(import.meta.url));
const JOBS = {
  chaos: join(here, '..', 'test', 'fixtures', 'jobs', 'chaos-sequences.ts'),
  skewed: join(here, '..', 'test', 'fixtures', 'jobs', 'split-owner-sequences.ts'),
};
type Job = keyof typeof JOBS;

type Mode = 'aligned' | 'unaligned' | 'unaligned-timeout';
type Fault = 'kill-complete' | 'kill-triggered' | 'kill-random' | 'hang' | 'drop-live' | 'reader-done';
const FAULTS: Fault[] = ['kill-complete', 'kill-triggered', 'kill-random', 'hang', 'drop-live', 'reader-done'];

/**
 * Whether a checkpoint has a finished source reader next to one with records left and (unless
 * aligned: no channel state there) unshipped output batches.
 */
function readerDoneOtherInFlight(checkpoint: CompletedCheckpoint, aligned: boolean): boolean {
  for (const subtasks of operatorsOf(checkpoint.states).values()) {
    if (!subtasks.every((s) => Array.isArray(s?.function))) continue;
    const done = subtasks.some((s) => (s?.function as unknown[]).length === 0);
    const inFlight = subtasks.some(
      (s) => (s?.function as unknown[]).length > 0 && (aligned || (s?.channels?.outputs ?? []).some((c) => c.batches.length > 0)),
    );
    return done && inFlight;
  }
  return false;
}

/** What one run saw. */
interface RunOutcome {
  mode: Mode;
  seed: number;
  faults: Fault[];
  restores: number;
  /** Attempt failures whose message is the checker's `expected seq`: a restore that lost or repeated records. */
  gaps: string[];
  /** Worker-lost failures (kills, hangs, heartbeat drops). */
  lost: number;
  /** Final output exact (each key's sequence once, in order), or what was wrong. */
  final: 'exact' | string;
  channelStateCheckpoints: number;
}

function checkFinal(result: JobResult, keys: readonly number[], perKey: number): 'exact' | string {
  const byKey = new Map<number, number[]>();
  for (const [key, seq] of result.collected.out as [number, number, number][]) {
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(seq);
  }
  if (byKey.size !== keys.length) return `${byKey.size} keys, expected ${keys.length}`;
  for (const k of keys) {
    const seqs = byKey.get(k) ?? [];
    if (seqs.length !== perKey || seqs.some((s, i) => s !== i))
      return `key ${k}: ${seqs.length} records, first out of place at ${seqs.findIndex((s, i) => s !== i)}`;
  }
  return 'exact';
}

async function run(job: Job, mode: Mode, seed: number, keys: number, perKey: number): Promise<RunOutcome> {
  const random = prng(seed);
  const count = 1 + Math.floor(random() * 3);
  const faults: Fault[] = Array.from({ length: count }, () => FAULTS[Math.floor(random() * FAULTS.length)]);
  const dropLive = faults.includes('drop-live');
  const hang = faults.includes('hang');
  const faultDir = mkdtempSync(join(tmpdir(), 'weir-unaligned-stress-'));
  const interval = 20 + Math.floor(random() * 60);
  const outcome: RunOutcome = { mode, seed, faults, restores: 0, gaps: [], lost: 0, final: 'exact', channelStateCheckpoints: 0 };
  let next = 0;
  let faultAttempt = 0;
  const due = (attempt: number, kind: Fault) => next < faults.length && faults[next] === kind && attempt > faultAttempt;
  const fire = (attempt: number) => {
    next++;
    faultAttempt = attempt;
  };
  try {
    const client = await startJob(JOBS[job], {
      parallelism: 2,
      params: {
        keys,
        perKey,
        interval,
        rate: 40_000,
        restarts: 5,
        slowMicros: 50,
        unaligned: mode !== 'aligned',
        fault: hang ? 'hang' : 'none',
        faultDir,
        ...(mode === 'unaligned-timeout' ? { alignedTimeout: 5 + Math.floor(random() * 40) } : {}),
      },
      // drop-live: a heartbeat timeout short enough that load alone drops a running worker.
      heartbeatTimeoutMs: dropLive ? 150 + Math.floor(random() * 250) : hang ? 1000 : 30_000,
      onEvent: (event) => {
        if (event.kind !== 'attempt-failed') return;
        if (event.next.action === 'restart') outcome.restores++;
        const message = event.error.message;
        if (/expected seq/.test(message)) outcome.gaps.push(`attempt ${event.attempt}: ${message.split('\n')[0]}`);
        if (/was lost/.test(message)) outcome.lost++;
      },
      onCheckpointTriggered: (_id, attempt, c) => {
        if (!due(attempt, 'kill-triggered')) return;
        fire(attempt);
        setTimeout(() => void c.killWorker(Math.floor(random() * 2)).catch(() => undefined), Math.floor(random() * 15));
      },
      onCheckpoint: (checkpoint, attempt, c) => {
        if ([...checkpoint.states.keys()].some((k) => k.includes('\u0001channels'))) outcome.channelStateCheckpoints++;
        if (due(attempt, 'reader-done') && readerDoneOtherInFlight(checkpoint, mode === 'aligned')) {
          fire(attempt);
          void c.killWorker(Math.floor(random() * 2)).catch(() => undefined);
        } else if (due(attempt, 'kill-complete')) {
          fire(attempt);
          void c.killWorker(Math.floor(random() * 2)).catch(() => undefined);
        } else if (due(attempt, 'kill-random')) {
          fire(attempt);
          setTimeout(() => void c.killWorker(Math.floor(random() * 2)).catch(() => undefined), Math.floor(random() * 400));
        } else if (due(attempt, 'hang')) {
          fire(attempt);
          writeFileSync(join(faultDir, 'armed'), String(checkpoint.id));
        } else if (due(attempt, 'drop-live')) {
          // Nothing to do: the short heartbeat timeout drops a worker by itself under load.
          fire(attempt);
        }
      },
    });
    const result = await client.result;
    const expectedKeys = job === 'chaos' ? Array.from({ length: keys }, (_, k) => k) : [FAST_KEY, SLOW_KEY];
    outcome.final = checkFinal(result, expectedKeys, perKey);
  } catch (error) {
    outcome.final = `job failed: ${(error as Error).message.split('\n')[0]}`;
  } finally {
    rmSync(faultDir, { recursive: true, force: true });
  }
  return outcome;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '40' },
      modes: { type: 'string', default: 'aligned,unaligned,unaligned-timeout' },
      seed: { type: 'string' },
      burn: { type: 'string', default: '0' },
      job: { type: 'string', default: 'chaos' },
      faults: { type: 'string' },
      keys: { type: 'string', default: '16' },
      'per-key': { type: 'string', default: '2000' },
    },
  });
  const runs = Number(values.runs);
  const job = String(values.job) as Job;
  if (!(job in JOBS)) throw new RangeError(`--job: unknown job '${job}' (chaos, skewed)`);
  if (values.faults !== undefined) {
    const only = String(values.faults).split(',') as Fault[];
    for (const f of only) if (!FAULTS.includes(f)) throw new RangeError(`--faults: unknown fault '${f}'`);
    FAULTS.splice(0, FAULTS.length, ...only);
  }
  const modes = String(values.modes).split(',') as Mode[];
  for (const m of modes)
    if (!['aligned', 'unaligned', 'unaligned-timeout'].includes(m)) throw new RangeError(`--modes: unknown mode '${m}'`);
  const base = Number(values.seed ?? Date.now() % 1_000_000);
  const keys = Number(values.keys);
  const perKey = Number(values['per-key']);
  const burners: ChildProcess[] = [];
  for (let i = 0; i < Number(values.burn); i++) burners.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  console.log(
    `unaligned stress: job ${job}, faults ${FAULTS.join(',')}, ${runs} runs per mode, base seed ${base}, ${burners.length} burner(s), load ${loadavg()[0].toFixed(2)}`,
  );
  const totals = new Map<
    Mode,
    { runs: number; restores: number; lost: number; gaps: number; gaveUp: number; badFinal: number; withChannelState: number }
  >();
  try {
    for (let r = 0; r < runs; r++) {
      for (const mode of modes) {
        const seed = base + r;
        const o = await run(job, mode, seed, keys, perKey);
        const t = totals.get(mode) ?? { runs: 0, restores: 0, lost: 0, gaps: 0, gaveUp: 0, badFinal: 0, withChannelState: 0 };
        t.runs++;
        t.restores += o.restores;
        t.lost += o.lost;
        t.gaps += o.gaps.length;
        t.withChannelState += o.channelStateCheckpoints;
        // A job that used up its restarts (heartbeat drops under load count too) is not wrong output.
        if (o.final.startsWith('job failed')) t.gaveUp++;
        else if (o.final !== 'exact') t.badFinal++;
        totals.set(mode, t);
        const flag =
          o.gaps.length > 0 || o.final !== 'exact'
            ? `  <-- ${o.gaps[0] ?? ''}${o.final === 'exact' ? '' : ` / ${o.final.slice(0, 60)}`}`
            : '';
        console.log(
          `${mode.padEnd(17)} seed ${seed}: faults ${o.faults.join(',')}; restores ${o.restores} (lost ${o.lost}); gaps ${o.gaps.length}; final ${o.final === 'exact' ? 'exact' : 'WRONG'}; load ${loadavg()[0].toFixed(1)}${flag}`,
        );
      }
    }
  } finally {
    for (const b of burners) b.kill('SIGKILL');
  }
  console.log('\nmode               runs  restores  worker-lost  chk-with-channel-state  gap-failures  gave-up  wrong-output');
  for (const [mode, t] of totals)
    console.log(
      `${mode.padEnd(17)} ${String(t.runs).padStart(6)} ${String(t.restores).padStart(9)} ${String(t.lost).padStart(12)} ${String(t.withChannelState).padStart(23)} ${String(t.gaps).padStart(13)} ${String(t.gaveUp).padStart(8)} ${String(t.badFinal).padStart(13)}`,
    );
  console.log(
    `load at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

await main();
