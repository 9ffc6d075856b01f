//! The CLI's live status area while a job runs on a terminal (drawn by log-update): input and output rates, the most backpressured task, the lowest watermark and its lag, the last checkpoint.

import { createLogUpdate } from 'log-update';
import type { JobSample } from '../core/metrics.ts';
import type { JobGraph } from '../graph/job-graph.ts';
import type { JobRates, MetricsRegistry } from './registry.ts';

/** What one frame of the status area shows. */
export interface ProgressInput {
  graph: JobGraph;
  sample: JobSample;
  rates: JobRates | undefined;
}

/** `1.23 M`, `456 k`, `12`. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(perSecond >= 1e5 ? 0 : 1)} k`;
  return perSecond.toFixed(0);
}

/** `3 d 4 h`, `2 h 3 min`, `9 min 3 s`, `4.2 s`, `120 ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** `1.2 MB`, `340 kB`, `12 B`. */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} B`;
}

/** A watermark as UTC time (`2026-12-03 10:42:10.000`). */
export function formatWatermark(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** The lines of one frame. */
export function renderProgress({ graph, sample, rates }: ProgressInput): string[] {
  const sources = new Set(graph.vertices.filter((v) => v.inputs.length === 0).map((v) => v.id));
  const sinks = new Set(graph.vertices.filter((v) => !graph.edges.some((e) => e.sourceVertex === v.id)).map((v) => v.id));
  const lines = [`job ${sample.jobId.slice(0, 8)} '${sample.name}' ${sample.status} for ${formatDuration(sample.now - sample.startTime)}`];
  if (sample.numRestarts > 0) lines[0] += `, ${sample.numRestarts} restart(s)`;
  if (!rates || rates.subtasks.length === 0) {
    lines.push('  deploying…');
    return lines;
  }
  let input = 0;
  let output = 0;
  const pressure = new Map<number, { sum: number; n: number }>();
  let lowest = Number.POSITIVE_INFINITY;
  let lowestVertex = -1;
  for (const s of rates.subtasks) {
    if (sources.has(s.vertex)) input += s.numRecordsOutPerSecond;
    if (sinks.has(s.vertex)) output += s.numRecordsInPerSecond;
    const p = pressure.get(s.vertex) ?? { sum: 0, n: 0 };
    p.sum += s.backPressuredTimeMsPerSecond;
    p.n++;
    pressure.set(s.vertex, p);
    if (!sources.has(s.vertex) && Number.isFinite(s.currentInputWatermark) && s.currentInputWatermark < lowest) {
      lowest = s.currentInputWatermark;
      lowestVertex = s.vertex;
    }
  }
  lines.push(`  in ${formatRate(input)} records/s   out ${formatRate(output)} records/s`);
  let worst: { vertex: number; ratio: number } | undefined;
  for (const [vertex, p] of pressure) {
    const ratio = p.sum / p.n / 1000;
    if (!worst || ratio > worst.ratio) worst = { vertex, ratio };
  }
  if (worst && worst.ratio > 0.005) {
    const level = worst.ratio > 0.5 ? 'high' : worst.ratio > 0.1 ? 'low' : 'ok';
    lines.push(`  backpressure: '${graph.vertices[worst.vertex].name}' ${(worst.ratio * 100).toFixed(0)} % (${level})`);
  } else {
    lines.push('  backpressure: none');
  }
  if (lowestVertex >= 0) {
    lines.push(
      `  lowest watermark ${formatWatermark(lowest)} at '${graph.vertices[lowestVertex].name}' (${formatDuration(Math.max(0, sample.now - lowest))} behind the clock)`,
    );
  } else {
    lines.push('  no watermark yet');
  }
  const last = [...sample.checkpoints.history].reverse().find((c) => c.status !== 'IN_PROGRESS');
  if (last) {
    const what = last.kind === 'savepoint' ? 'savepoint' : 'checkpoint';
    const detail =
      last.status === 'COMPLETED'
        ? `completed in ${formatDuration(last.durationMs ?? 0)}${last.sizeBytes !== undefined ? `, ${formatBytes(last.sizeBytes)}` : ''}`
        : `failed${last.failure ? `: ${last.failure}` : ''}`;
    lines.push(`  last ${what} ${last.id} ${detail}, ${formatDuration(sample.now - last.triggerTime)} ago`);
  }
  return lines;
}

/** Where the area is drawn and how log lines get past it. */
export interface ProgressArea {
  /** Writes log text above the area (the area is redrawn below it). */
  write(text: string): void;
  /** Removes the area and stops redrawing. */
  stop(): void;
}

/** Draws the status area on stderr every `intervalMs` from the registry's samples of job `jobId`. */
export function startProgress(registry: MetricsRegistry, jobId: string, graph: JobGraph, intervalMs = 1000): ProgressArea | undefined {
  // A terminal of no rows (a pseudo-terminal nobody sized) shows nothing: no area, logs go straight out.
  if (process.stderr.rows === 0) return undefined;
  const update = createLogUpdate(process.stderr, { showCursor: true });
  let frame = '';
  const draw = (): void => {
    const sample = registry.latest(jobId);
    if (!sample) return;
    frame = renderProgress({ graph, sample, rates: registry.rates(jobId) }).join('\n');
    update(frame);
  };
  const timer = setInterval(draw, intervalMs);
  timer.unref();
  return {
    write(text) {
      update.clear();
      process.stderr.write(text);
      if (frame) update(frame);
    },
    stop() {
      clearInterval(timer);
      update.clear();
      update.done();
    },
  };
}
