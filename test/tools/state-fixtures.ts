// Shared by the state inspector tests: checkpoints of the revenue pipeline and of Nexmark q3 on either backend, their expected state computed from the input, and the weir command.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { executeJob, nexmarkEvents, startJob, type Auction, type Person } from '../../src/index.ts';
import { orderAt, orderStreamConfig, MAX_OUT_OF_ORDERNESS, WINDOW_SIZE } from '../../examples/revenue-pipeline.ts';
import { nexmarkConfigOf } from '../../bench/nexmark/lib.ts';

export type Backend = 'heap' | 'rocksdb';

/** Runs `node bin/weir.js …`; resolves with its exit code and output (spawned asynchronously, so several can run at once). */
export function weir(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/weir.js', ...args], { env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * Runs `weir state …` in this process (for usage errors, which need no job code: no process to
 * start); resolves with its exit code and what it wrote.
 */
export async function weirStateInProcess(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const { stateMain } = await import('../../src/cli/state.ts');
  const out = { stdout: '', stderr: '' };
  const write = (stream: 'stdout' | 'stderr') => (chunk: string | Uint8Array) => {
    out[stream] += String(chunk);
    return true;
  };
  const saved = { stdout: process.stdout.write, stderr: process.stderr.write };
  process.stdout.write = write('stdout') as typeof process.stdout.write;
  process.stderr.write = write('stderr') as typeof process.stderr.write;
  try {
    const status = await stateMain(args);
    return { status, ...out };
  } finally {
    process.stdout.write = saved.stdout;
    process.stderr.write = saved.stderr;
  }
}

export const REVENUE_JOB = 'examples/revenue-pipeline.ts';
/** Per-record watermarks and one source reader: which windows are open at a given source position follows from the input alone. */
export const REVENUE_PARAMS = { orders: 200_000, watermarks: 'per-record', checkpointMs: 20, output: 'collect' };

/**
 * Runs the revenue pipeline at parallelism 2 (local mode: the same operators and snapshots, a
 * second less to start) and takes a savepoint at its first checkpoint, mid-run; returns its folder.
 */
export async function revenueSavepoint(backend: Backend, dir: string): Promise<string> {
  let taken: Promise<{ path?: string }> | undefined;
  const client = await startJob(REVENUE_JOB, {
    mode: 'local',
    parallelism: 2,
    params: REVENUE_PARAMS,
    stateBackend: { kind: backend },
    onCheckpoint: (_c, _a, control) => {
      taken ??= control.triggerSavepoint(dir);
    },
  });
  await client.result;
  return (await (taken as Promise<{ path?: string }>)).path as string;
}

/**
 * The revenue windows open after the first `n` orders, computed from the orders themselves:
 * `customerId|windowStart` → cents. An order counts unless its window had closed when it came (the
 * watermark, max timestamp − 30 s − 1, after every order, had passed the window's last ms); a
 * window is gone once the watermark after order `n − 1` passed its last ms. Refunds and free orders
 * are filtered out.
 */
export function expectedOpenWindows(n: number): Map<string, number> {
  const config = orderStreamConfig(REVENUE_PARAMS);
  let max = Number.NEGATIVE_INFINITY;
  let watermark = Number.NEGATIVE_INFINITY;
  const open = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const o = orderAt(i, config);
    if (o.amount > 0) {
      const start = o.ts - (o.ts % WINDOW_SIZE);
      if (start + WINDOW_SIZE - 1 > watermark) {
        const id = `${o.customerId}|${start}`;
        open.set(id, (open.get(id) ?? 0) + o.amount);
      }
    }
    if (o.ts > max) {
      max = o.ts;
      watermark = max - MAX_OUT_OF_ORDERNESS - 1;
    }
  }
  for (const id of [...open.keys()]) if (Number(id.split('|')[1]) + WINDOW_SIZE - 1 <= watermark) open.delete(id);
  return open;
}

export const Q3_JOB = 'bench/nexmark/queries/q3.ts';
export const Q3_PARAMS = { events: 20_000, rate: 1000, seed: 0, collect: true, checkpointInterval: 50 };

/**
 * Runs Nexmark q3 to the end at parallelism 2 with checkpoints kept in `dir` (on worker threads,
 * or every subtask on this thread); returns the run folder (its last checkpoint is the final one,
 * after all input).
 */
export async function q3Checkpoints(backend: Backend, dir: string, mode: 'threads' | 'local'): Promise<string> {
  await executeJob(Q3_JOB, { mode, parallelism: 2, params: Q3_PARAMS, stateBackend: { kind: backend }, checkpointDir: dir });
  const job = join(dir, readdirSync(dir)[0]);
  return join(job, readdirSync(job).find((n) => n.startsWith('run-')) as string);
}

/** What q3's join keeps after all input, computed from the events: persons of OR, ID and CA by id; category-10 auctions by seller. */
export function expectedQ3(): { persons: Map<number, Person>; auctions: Map<number, Auction[]> } {
  const persons = new Map<number, Person>();
  const auctions = new Map<number, Auction[]>();
  for (const { event } of nexmarkEvents(nexmarkConfigOf(Q3_PARAMS))) {
    if (event.kind === 'person' && (event.state === 'OR' || event.state === 'ID' || event.state === 'CA')) persons.set(event.id, event);
    if (event.kind === 'auction' && event.category === 10) auctions.set(event.seller, [...(auctions.get(event.seller) ?? []), event]);
  }
  return { persons, auctions };
}
