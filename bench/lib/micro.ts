//! What tinybench micro-benchmark files share: run options, the Bench they start from, and their result table.

import { Bench, type Task } from 'tinybench';
import { textTable } from './report.ts';

/** Options the micro runner passes to every bench file. */
export interface MicroOptions {
  /** Short time budgets, for a smoke run. */
  quick: boolean;
}

/** A micro-benchmark file's default export. */
export type MicroSuite = (options: MicroOptions) => Promise<MicroResult[]>;

/** One task's figures, as printed and written to JSON. */
export interface MicroResult {
  /** Bench name (a group of competing tasks). */
  group: string;
  /** Task name. */
  task: string;
  /** Median operations per second. */
  opsPerSecond: number;
  /** Median latency of one operation, in µs. */
  medianMicros: number;
  /** Relative margin of error of the mean latency, in %. */
  rmePercent: number;
  /** Samples taken. */
  samples: number;
  /** Items (records, batches) one operation handles; `itemsPerSecond = opsPerSecond × items`. */
  items: number;
  /** Extra facts about the task, e.g. encoded bytes. */
  note?: string;
}

/** A tinybench Bench with the time budgets of a full or a quick run. */
export function createBench(name: string, options: MicroOptions): Bench {
  return new Bench({
    name,
    time: options.quick ? 60 : 500,
    warmupTime: options.quick ? 20 : 150,
    iterations: options.quick ? 8 : 32,
    warmupIterations: options.quick ? 4 : 16,
    throws: true,
  });
}

/** Per-task metadata a bench file attaches to its tasks. */
export interface TaskInfo {
  /** Items one call handles (records per batch, batches per call). */
  items: number;
  /** Extra text for the table. */
  note?: string;
}

/** Runs a bench, prints its table (tasks in the order they were added) and returns the figures. */
export async function runBench(bench: Bench, info: ReadonlyMap<string, TaskInfo>, itemName = 'records'): Promise<MicroResult[]> {
  await bench.run();
  const results = bench.tasks.map((task) => toResult(bench.name ?? '', task, info.get(task.name) ?? { items: 1 }));
  const rows = results.map((r) => [
    r.task,
    formatOps(r.opsPerSecond),
    formatOps(r.opsPerSecond * r.items),
    r.medianMicros < 10 ? r.medianMicros.toFixed(3) : r.medianMicros.toFixed(1),
    `±${r.rmePercent.toFixed(1)}%`,
    String(r.samples),
    r.note ?? '',
  ]);
  console.log(`\n${bench.name}`);
  console.log(textTable(['task', '>ops/s (median)', `>${itemName}/s`, '>median µs', '>rme', '>samples', 'note'], rows));
  return results;
}

function toResult(group: string, task: Task, info: TaskInfo): MicroResult {
  const result = task.result;
  if (result.state !== 'completed') throw new Error(`task '${task.name}' of '${group}' did not complete: ${result.state}${'error' in result ? ` (${String(result.error)})` : ''}`);
  return {
    group,
    task: task.name,
    opsPerSecond: result.throughput.p50,
    medianMicros: result.latency.p50 * 1000,
    rmePercent: result.latency.rme,
    samples: result.latency.samplesCount,
    items: info.items,
    note: info.note,
  };
}

function formatOps(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}
