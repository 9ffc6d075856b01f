//! Prometheus exposition through prom-client: one registry per observer, filled on scrape from each job's latest sample.

import { Counter, Gauge, Registry } from 'prom-client';
import type { JobSample, OperatorSample, SubtaskSample } from '../core/index.ts';
import type { JobGraph } from '../graph/job-graph.ts';
import type { MetricsRegistry } from './registry.ts';

/** Every metric name is prefixed with this (`weir_numRecordsIn`). */
export const METRIC_PREFIX = 'weir_';

const OPERATOR_LABELS = ['job', 'job_id', 'operator', 'subtask'] as const;
const JOB_LABELS = ['job', 'job_id'] as const;
type OperatorLabels = Record<(typeof OPERATOR_LABELS)[number], string>;
type JobLabels = Record<(typeof JOB_LABELS)[number], string>;

/** Metrics of one operator in one subtask (cumulative ones are counters). */
const OPERATOR_METRICS = {
  numRecordsIn: ['counter', 'Records into the operator (cumulative since the attempt started)'],
  numRecordsOut: ['counter', 'Records out of the operator (cumulative since the attempt started)'],
  numLateRecordsDropped: ['counter', 'Records dropped for arriving after their window closed'],
  currentInputWatermark: ['gauge', 'Lowest watermark the operator received over its inputs (ms since the epoch)'],
  currentOutputWatermark: ['gauge', 'Watermark the operator last emitted (ms since the epoch)'],
  stateKeys: ['gauge', 'Keyed state entries'],
  stateBytesEstimate: ['gauge', 'Estimated bytes of keyed state'],
  pendingTimers: ['gauge', 'Event-time timers registered and not fired'],
  pendingWindows: ['gauge', 'Windows holding contents and not fired'],
} as const;

/** Metrics of one task (a chain of operators) in one subtask; `operator` is the task's name. */
const TASK_METRICS = {
  numRecordsInPerSecond: ['gauge', 'Records into the task per second over the last sampling interval'],
  numRecordsOutPerSecond: ['gauge', 'Records out of the task per second over the last sampling interval'],
  busyTimeMsPerSecond: ['gauge', 'Milliseconds per second spent processing'],
  idleTimeMsPerSecond: ['gauge', 'Milliseconds per second spent waiting for input'],
  backPressuredTimeMsPerSecond: ['gauge', 'Milliseconds per second stopped for want of output credit'],
  mailboxQueued: ['gauge', 'Batches queued in the task mailbox'],
  outputCreditsAvailable: ['gauge', 'Output credits available'],
} as const;

/** Metrics of the job. */
const JOB_METRICS = {
  numRestarts: ['counter', 'Restarts of the job'],
  lastCheckpointDuration: ['gauge', 'Duration of the last completed checkpoint (ms)'],
  lastCheckpointSize: ['gauge', 'Bytes of the last completed checkpoint'],
  checkpointAlignmentTime: ['gauge', 'Longest barrier alignment of the last completed checkpoint (ms)'],
  numberOfCompletedCheckpoints: ['counter', 'Completed checkpoints'],
  numberOfFailedCheckpoints: ['counter', 'Failed checkpoints'],
  uptime: ['gauge', 'Milliseconds since the job started'],
} as const;

type Metric = Counter<string> | Gauge<string>;

/** Sets a metric's value for a label set (a counter is reset on each scrape, then set to the sample's number). */
function put(metric: Metric, labels: Record<string, string>, value: number): void {
  if (metric instanceof Counter) metric.inc(labels, Math.max(0, value));
  else metric.set(labels, value);
}

function operatorValues(
  op: OperatorSample,
  s: SubtaskSample,
  graph: JobGraph,
  node: number,
): Partial<Record<keyof typeof OPERATOR_METRICS, number>> {
  const vertex = graph.vertices[s.vertex];
  const out: Partial<Record<keyof typeof OPERATOR_METRICS, number>> = {
    numRecordsIn: op.recordsIn,
    numRecordsOut: op.recordsOut,
    numLateRecordsDropped: op.counters?.numLateRecordsDropped ?? 0,
  };
  if (op.inputWatermarks && op.inputWatermarks.length > 0) out.currentInputWatermark = Math.min(...op.inputWatermarks);
  else if (vertex?.nodes[0] === node && graph.streamGraph.nodes[node]?.inputs.length) out.currentInputWatermark = s.currentInputWatermark;
  if (op.outputWatermark !== undefined) out.currentOutputWatermark = op.outputWatermark;
  else if (vertex?.nodes[vertex.nodes.length - 1] === node) out.currentOutputWatermark = s.currentOutputWatermark;
  if (op.state) {
    out.stateKeys = op.state.keys;
    out.stateBytesEstimate = op.state.bytes;
  }
  if (op.timers) out.pendingTimers = op.timers.pending;
  if (op.windows) out.pendingWindows = op.windows.pending;
  return out;
}

function jobValues(sample: JobSample): Partial<Record<keyof typeof JOB_METRICS, number>> {
  const last = [...sample.checkpoints.history].reverse().find((c) => c.status === 'COMPLETED');
  const out: Partial<Record<keyof typeof JOB_METRICS, number>> = {
    numRestarts: sample.numRestarts,
    numberOfCompletedCheckpoints: sample.checkpoints.completed,
    numberOfFailedCheckpoints: sample.checkpoints.failed,
    uptime: Math.max(0, sample.now - sample.startTime),
  };
  if (last?.durationMs !== undefined) out.lastCheckpointDuration = last.durationMs;
  if (last?.sizeBytes !== undefined) out.lastCheckpointSize = last.sizeBytes;
  if (last?.alignmentMs !== undefined) out.checkpointAlignmentTime = last.alignmentMs;
  return out;
}

/** What `GET /metrics` answers: a prom-client registry of its own and the scrape that fills it. */
export interface PrometheusExporter {
  /** The registry (not prom-client's global one). */
  readonly registry: Registry;
  /** The text exposition of every job's latest sample. */
  scrape(): Promise<string>;
}

/**
 * A prom-client registry (not the global one) whose metrics are filled on each scrape from the
 * latest sample of every job in `metrics`: no work happens between scrapes.
 */
export function createPrometheusExporter(metrics: MetricsRegistry): PrometheusExporter {
  const registry = new Registry();
  const make = (name: string, kind: 'counter' | 'gauge', help: string, labelNames: readonly string[]): Metric =>
    kind === 'counter'
      ? new Counter({ name: METRIC_PREFIX + name, help, labelNames, registers: [registry] })
      : new Gauge({ name: METRIC_PREFIX + name, help, labelNames, registers: [registry] });
  const operatorMetrics = Object.entries(OPERATOR_METRICS).map(([n, [k, h]]) => [n, make(n, k, h, OPERATOR_LABELS)] as const);
  const taskMetrics = Object.entries(TASK_METRICS).map(([n, [k, h]]) => [n, make(n, k, h, OPERATOR_LABELS)] as const);
  const jobMetrics = Object.entries(JOB_METRICS).map(([n, [k, h]]) => [n, make(n, k, h, JOB_LABELS)] as const);
  const all = [...operatorMetrics, ...taskMetrics, ...jobMetrics].map(([, m]) => m);

  const refresh = (): void => {
    for (const m of all) m.reset();
    for (const job of metrics.jobs()) {
      const sample = metrics.latest(job.id);
      if (!sample) continue;
      const graph = job.graph;
      const jobLabels: JobLabels = { job: sample.name, job_id: sample.jobId };
      const jv = jobValues(sample);
      for (const [name, metric] of jobMetrics) {
        const v = jv[name as keyof typeof JOB_METRICS];
        if (v !== undefined) put(metric, jobLabels, v);
      }
      const rates = new Map((metrics.rates(job.id)?.subtasks ?? []).map((r) => [`${r.vertex}/${r.subtask}`, r]));
      for (const s of sample.subtasks) {
        const taskLabels: OperatorLabels = { ...jobLabels, operator: graph.vertices[s.vertex]?.name ?? s.task, subtask: String(s.subtask) };
        const r = rates.get(`${s.vertex}/${s.subtask}`);
        const tv: Partial<Record<keyof typeof TASK_METRICS, number>> = {};
        if (r) {
          tv.numRecordsInPerSecond = r.numRecordsInPerSecond;
          tv.numRecordsOutPerSecond = r.numRecordsOutPerSecond;
          tv.busyTimeMsPerSecond = r.busyTimeMsPerSecond;
          tv.idleTimeMsPerSecond = r.idleTimeMsPerSecond;
          tv.backPressuredTimeMsPerSecond = r.backPressuredTimeMsPerSecond;
        }
        if (s.mailbox) tv.mailboxQueued = s.mailbox.queued;
        if (s.credits) tv.outputCreditsAvailable = s.credits.available;
        for (const [name, metric] of taskMetrics) {
          const v = tv[name as keyof typeof TASK_METRICS];
          if (v !== undefined) put(metric, taskLabels, v);
        }
        for (const op of s.operators) {
          const node = graph.nodeNames.indexOf(op.name);
          const labels: OperatorLabels = { ...jobLabels, operator: op.name, subtask: String(s.subtask) };
          const ov = operatorValues(op, s, graph, node);
          for (const [name, metric] of operatorMetrics) {
            const v = ov[name as keyof typeof OPERATOR_METRICS];
            if (v !== undefined) put(metric, labels, v);
          }
        }
      }
    }
  };
  return {
    registry,
    async scrape(): Promise<string> {
      refresh();
      return registry.metrics();
    },
  };
}
