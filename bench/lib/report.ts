//! Shared helpers of the benchmark scripts: machine description, medians, number formatting, text tables.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';

/** The machine a benchmark ran on, printed at the top of every report. */
export interface MachineInfo {
  /** `process.version`, e.g. `v20.20.2`. */
  node: string;
  /** `os.cpus()[0].model`. */
  cpu: string;
  /** Logical cores the OS reports. */
  cores: number;
  /** Cores Node may use (`os.availableParallelism()`). */
  availableParallelism: number;
  /** `os.platform()`/`os.arch()`. */
  platform: string;
  /** Total memory in GiB, rounded. */
  memoryGiB: number;
  /** 1-minute load average when the run started (a hint of noise from other processes). */
  loadAverage1m: number;
}

/** Describes the current machine. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    node: process.version,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    availableParallelism: os.availableParallelism(),
    platform: `${os.platform()}/${os.arch()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverage1m: Number(os.loadavg()[0].toFixed(2)),
  };
}

/** One line describing the machine, for report headers. */
export function machineLine(m: MachineInfo): string {
  return `Node ${m.node} · ${m.cpu} · ${m.cores} cores (available ${m.availableParallelism}) · ${m.platform} · ${m.memoryGiB} GiB · load ${m.loadAverage1m}`;
}

/** The median of a non-empty list (mean of the middle two for even lengths). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A rate with an SI suffix: `12.3 M/s`. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '—';
  if (perSecond >= 1e9) return `${(perSecond / 1e9).toFixed(2)} G/s`;
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k/s`;
  return `${perSecond.toFixed(0)} /s`;
}

/** A count with an SI suffix: `5M`, `200k`. */
export function formatCount(n: number): string {
  if (n >= 1e6 && n % 1e5 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e2 === 0) return `${n / 1e3}k`;
  return String(n);
}

/** Renders rows as an aligned text table; columns whose header starts with `>` are right-aligned. */
export function textTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const right = headers.map((h) => h.startsWith('>'));
  const names = headers.map((h) => (h.startsWith('>') ? h.slice(1) : h));
  const widths = names.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, c) => (right[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (right[c] ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(names), rule, ...rows.map(line)].join('\n');
}

/** The code a benchmark measured: git commit, and whether src/ had uncommitted changes (others edit it concurrently). */
export function sourceRevision(): { commit: string; srcDirty: boolean } | undefined {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { commit: git('rev-parse', '--short', 'HEAD'), srcDirty: git('status', '--porcelain', '--', 'src').length > 0 };
  } catch {
    return undefined;
  }
}

/** How one measurement is run: the hand-written loop, weir local, or weir on 1 or 2 worker threads. */
export interface Mode {
  id: 'loop' | 'local' | 'threads-1' | 'threads-2';
  label: string;
  parallelism: number;
}

/** The modes every whole-job benchmark compares, baseline first. */
export const MODES: readonly Mode[] = [
  { id: 'loop', label: 'hand-written loop', parallelism: 1 },
  { id: 'local', label: 'weir local (p=1)', parallelism: 1 },
  { id: 'threads-1', label: 'weir threads p=1', parallelism: 1 },
  { id: 'threads-2', label: 'weir threads p=2', parallelism: 2 },
];

/** What every results file starts with. */
export interface RunHeader<M extends MachineInfo = MachineInfo> {
  benchmark: string;
  startedAt: Date;
  command: string;
  revision: ReturnType<typeof sourceRevision>;
  machine: M;
}

/** Prints the load at the end of a run and writes its results JSON: the header, the load at both ends, then `body`. */
export function writeResults<M extends MachineInfo>(out: string, header: RunHeader<M>, body: Record<string, unknown>): void {
  const endLoad = machineInfo().loadAverage1m;
  console.log(`\nload average 1m: ${header.machine.loadAverage1m} at start, ${endLoad} at end (2-core machine: other processes add noise)`);
  mkdirSync(dirname(out), { recursive: true });
  const { benchmark, startedAt, command, revision, machine } = header;
  const results = {
    benchmark,
    date: startedAt.toISOString(),
    command,
    revision,
    machine: { ...machine, loadAverage1mAtEnd: endLoad },
    ...body,
  };
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
}

/** The repository's README (benchmark tables live between `<!-- bench:ID -->` and `<!-- /bench:ID -->` markers). */
const README = new URL('../../README.md', import.meta.url);

/**
 * Replaces the README's table of benchmark `id` (the text between its markers) with `markdown`, so that
 * each table is regenerated by the command that measures it (with `--readme`). Throws, naming the
 * markers, when the README lacks them.
 */
export function updateReadmeSection(id: string, markdown: string): void {
  const open = `<!-- bench:${id} -->`;
  const close = `<!-- /bench:${id} -->`;
  const text = readFileSync(README, 'utf8');
  const from = text.indexOf(open);
  const to = text.indexOf(close);
  if (from < 0 || to < from) throw new Error(`README.md has no '${open}' … '${close}' section for this benchmark's table`);
  writeFileSync(README, `${text.slice(0, from + open.length)}\n${markdown.trim()}\n${text.slice(to)}`);
  console.log(`README.md: table '${id}' updated`);
}

/** The line under a README table: command, date, commit, machine and the load range over the run. */
export function provenanceLine(header: RunHeader, loads: readonly number[]): string {
  const rev = header.revision
    ? `weir ${header.revision.commit}${header.revision.srcDirty ? ' + uncommitted src/ changes' : ''}`
    : 'weir (no git)';
  const m = header.machine;
  const lo = Math.min(...loads, m.loadAverage1m);
  const hi = Math.max(...loads, m.loadAverage1m);
  const load = lo === hi ? lo.toFixed(1) : `${lo.toFixed(1)}–${hi.toFixed(1)}`;
  return `\`${header.command}\` · ${header.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC · ${rev} · Node ${m.node}, ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB · load ${load}`;
}
