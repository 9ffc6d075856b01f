//! The read-only REST routes: Flink's resources and JSON shapes for jobs, vertices, checkpoints, exceptions, and the watermark explanation.

import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { CheckpointEntry, JobSample, JobStatus, SubtaskSample } from '../core/index.ts';
import type { JobGraph, JobVertex } from '../graph/job-graph.ts';
import { explainWatermarks } from './explain.ts';
import type { MetricsRegistry, ObservedJob, SubtaskRates } from './registry.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Flink's sentinels for "no watermark" and "end of input" (Long.MIN_VALUE / Long.MAX_VALUE). */
const LONG_MIN = '-9223372036854775808';
const LONG_MAX = '9223372036854775807';

/** A Flink error answer: `{ errors: [message] }`. */
export function sendError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send({ errors: [message] });
}

const jobParams = {
  type: 'object',
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
  required: ['id'],
} as const;
const vertexParams = {
  type: 'object',
  properties: { id: jobParams.properties.id, vid: { type: 'string', pattern: '^[0-9]{1,9}$' } },
  required: ['id', 'vid'],
} as const;

const ENDED: ReadonlySet<JobStatus> = new Set(['FINISHED', 'FAILED', 'CANCELED']);

/** A watermark as JSON: a number, or null before the first one (and at the end of input, see the Flink-shaped routes). */
const wm = (w: number): number | null => (Number.isFinite(w) ? w : null);

/** The job's sample: the latest, or one taken now when none was taken yet. */
async function sampleOf(registry: MetricsRegistry, job: ObservedJob): Promise<JobSample | undefined> {
  return registry.latest(job.id) ?? (await registry.sampleNow(job.id));
}

/** A job that has not answered any sample yet (its `sample()` failed every time). */
export class NoSampleError extends Error {
  readonly statusCode = 503;
  constructor(id: string) {
    super(`job ${id} has not answered a sample yet`);
  }
}

async function requireSample(registry: MetricsRegistry, job: ObservedJob): Promise<JobSample> {
  const sample = await sampleOf(registry, job);
  if (!sample) throw new NoSampleError(job.id);
  return sample;
}

function times(sample: JobSample): { start: number; end: number; duration: number } {
  const end = ENDED.has(sample.status) ? sample.now : -1;
  return { start: sample.startTime, end, duration: Math.max(0, (end === -1 ? sample.now : end) - sample.startTime) };
}

function taskCounts(graph: JobGraph, status: JobStatus): Record<string, number> {
  const n = graph.vertices.length;
  const counts: Record<string, number> = {
    created: 0,
    scheduled: 0,
    deploying: 0,
    running: 0,
    finished: 0,
    canceling: 0,
    canceled: 0,
    failed: 0,
    reconciling: 0,
    initializing: 0,
    total: n,
  };
  const key = status === 'RESTARTING' ? 'deploying' : status === 'CANCELED' ? 'canceled' : status.toLowerCase();
  counts[key] = n;
  return counts;
}

/** Flink's `plan` object. */
export function planOf(job: ObservedJob, name: string): Record<string, unknown> {
  const g = job.graph;
  return {
    jid: job.id,
    name,
    type: 'STREAMING',
    nodes: g.vertices.map((v) => ({
      id: v.id,
      parallelism: v.parallelism,
      operator: g.streamGraph.nodes[v.nodes[0]].type,
      operator_strategy: '',
      description: v.name,
      operators: v.nodes.map((n) => g.nodeNames[n]),
      inputs: v.inputs.map((e, num) => ({
        num,
        id: e.sourceVertex,
        ship_strategy: e.partitioner.toUpperCase(),
        exchange: 'pipelined_bounded',
        ...(e.sideOutputTag !== undefined ? { side_output: e.sideOutputTag } : {}),
      })),
      optimizer_properties: {},
    })),
  };
}

const chainIn = (s: SubtaskSample): number => s.operators[0]?.recordsIn ?? 0;
const chainOut = (s: SubtaskSample): number => s.operators[s.operators.length - 1]?.recordsOut ?? 0;

/** Names the `subtasks/metrics` resource knows (Flink's where they exist). */
export const SUBTASK_METRICS: readonly string[] = [
  'numRecordsIn',
  'numRecordsOut',
  'numRecordsInPerSecond',
  'numRecordsOutPerSecond',
  'busyTimeMsPerSecond',
  'idleTimeMsPerSecond',
  'backPressuredTimeMsPerSecond',
  'accumulatedBusyTime',
  'accumulatedIdleTime',
  'accumulatedBackPressuredTime',
  'currentInputWatermark',
  'currentOutputWatermark',
  'mailboxQueued',
  'outputCreditsAvailable',
  'stateKeys',
  'stateBytesEstimate',
  'pendingTimers',
  'pendingWindows',
  'numLateRecordsDropped',
];

/** Per-subtask metric values by Flink name (the `subtasks/metrics` resource). */
function subtaskMetricValues(s: SubtaskSample, r: SubtaskRates | undefined): Record<string, number> {
  const out: Record<string, number> = {
    numRecordsIn: chainIn(s),
    numRecordsOut: chainOut(s),
    numRecordsInPerSecond: r?.numRecordsInPerSecond ?? 0,
    numRecordsOutPerSecond: r?.numRecordsOutPerSecond ?? 0,
    busyTimeMsPerSecond: r?.busyTimeMsPerSecond ?? 0,
    idleTimeMsPerSecond: r?.idleTimeMsPerSecond ?? 0,
    backPressuredTimeMsPerSecond: r?.backPressuredTimeMsPerSecond ?? 0,
    accumulatedBusyTime: s.busyMs,
    accumulatedIdleTime: s.idleMs,
    accumulatedBackPressuredTime: s.backPressuredMs,
    currentInputWatermark: s.currentInputWatermark,
    currentOutputWatermark: s.currentOutputWatermark,
  };
  if (s.mailbox) out.mailboxQueued = s.mailbox.queued;
  if (s.credits) out.outputCreditsAvailable = s.credits.available;
  let keys = 0;
  let bytes = 0;
  let timers = 0;
  let windows = 0;
  let late = 0;
  for (const op of s.operators) {
    keys += op.state?.keys ?? 0;
    bytes += op.state?.bytes ?? 0;
    timers += op.timers?.pending ?? 0;
    windows += op.windows?.pending ?? 0;
    late += op.counters?.numLateRecordsDropped ?? 0;
  }
  Object.assign(out, {
    stateKeys: keys,
    stateBytesEstimate: bytes,
    pendingTimers: timers,
    pendingWindows: windows,
    numLateRecordsDropped: late,
  });
  return out;
}

/** The Flink-style `metrics` object of a subtask or (summed) of a vertex. */
function flinkMetrics(list: SubtaskSample[], rates: (SubtaskRates | undefined)[]): Record<string, number> {
  const sum = (f: (i: number) => number): number => list.reduce((a, _s, i) => a + f(i), 0);
  const max = (f: (i: number) => number): number => list.reduce((a, _s, i) => Math.max(a, f(i)), 0);
  let keys = 0;
  let bytes = 0;
  for (const s of list)
    for (const op of s.operators) {
      keys += op.state?.keys ?? 0;
      bytes += op.state?.bytes ?? 0;
    }
  return {
    'read-records': sum((i) => chainIn(list[i])),
    'read-records-complete': 1,
    'write-records': sum((i) => chainOut(list[i])),
    'write-records-complete': 1,
    'read-records-per-second': sum((i) => rates[i]?.numRecordsInPerSecond ?? 0),
    'write-records-per-second': sum((i) => rates[i]?.numRecordsOutPerSecond ?? 0),
    'accumulated-backpressured-time': sum((i) => list[i].backPressuredMs),
    'accumulated-idle-time': sum((i) => list[i].idleMs),
    'accumulated-busy-time': sum((i) => list[i].busyMs),
    'busy-time-ms-per-second': max((i) => rates[i]?.busyTimeMsPerSecond ?? 0),
    'idle-time-ms-per-second': max((i) => rates[i]?.idleTimeMsPerSecond ?? 0),
    'backpressured-time-ms-per-second': max((i) => rates[i]?.backPressuredTimeMsPerSecond ?? 0),
    'state-keys': keys,
    'state-bytes': bytes,
  };
}

/** Flink's back-pressure level of a ratio (≤ 0.10 ok, ≤ 0.5 low, else high). */
export function backpressureLevel(ratio: number): 'ok' | 'low' | 'high' {
  return ratio <= 0.1 ? 'ok' : ratio <= 0.5 ? 'low' : 'high';
}

function checkpointJson(c: CheckpointEntry): Record<string, unknown> {
  return {
    id: c.id,
    status: c.status,
    is_savepoint: c.kind === 'savepoint',
    checkpoint_type: c.kind === 'savepoint' ? 'SAVEPOINT' : 'CHECKPOINT',
    trigger_timestamp: c.triggerTime,
    latest_ack_timestamp: c.durationMs !== undefined ? c.triggerTime + c.durationMs : null,
    end_to_end_duration: c.durationMs ?? null,
    state_size: c.sizeBytes ?? null,
    alignment_duration: c.alignmentMs ?? null,
    external_path: c.path ?? null,
    failure_message: c.failure ?? null,
    discarded: false,
  };
}

/** What the read-only routes read: the jobs and their samples. */
export interface RouteContext {
  registry: MetricsRegistry;
}

/** Registers the read-only job routes. */
export async function registerJobRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { registry } = ctx;

  const findJob = (id: string, reply: FastifyReply): ObservedJob | undefined => {
    const job = registry.job(id);
    if (!job) sendError(reply, 404, `job ${id} not found`);
    return job;
  };
  /** The job and vertex a `/jobs/:id/vertices/:vid…` route names; undefined once a 404 is sent. */
  const findVertex = (params: { id: string; vid: string }, reply: FastifyReply): { job: ObservedJob; v: JobVertex } | undefined => {
    const job = findJob(params.id, reply);
    if (!job) return undefined;
    const v = job.graph.vertices[Number(params.vid)];
    if (!v) sendError(reply, 404, `vertex ${params.vid} not found in job ${job.id}`);
    return v ? { job, v } : undefined;
  };
  /** The job's sample, its vertex's subtask samples, and their rates. */
  const vertexData = async (job: ObservedJob, v: JobVertex) => {
    const sample = await requireSample(registry, job);
    const subtasks = sample.subtasks.filter((s) => s.vertex === v.id).sort((a, b) => a.subtask - b.subtask);
    const byKey = new Map((registry.rates(job.id)?.subtasks ?? []).map((r) => [`${r.vertex}/${r.subtask}`, r]));
    const rates = subtasks.map((s) => byKey.get(`${s.vertex}/${s.subtask}`));
    return { sample, subtasks, rates };
  };

  app.get('/overview', async () => {
    const counts = { running: 0, finished: 0, failed: 0, cancelled: 0 };
    let slots = 0;
    for (const job of registry.jobs()) {
      const status = (await sampleOf(registry, job))?.status ?? 'CREATED';
      if (status === 'FINISHED') counts.finished++;
      else if (status === 'FAILED') counts.failed++;
      else if (status === 'CANCELED') counts.cancelled++;
      else {
        counts.running++;
        slots += job.graph.slots;
      }
    }
    return {
      'flink-version': `weir ${VERSION}`,
      'jobs-running': counts.running,
      'jobs-finished': counts.finished,
      'jobs-failed': counts.failed,
      'jobs-cancelled': counts.cancelled,
      'slots-total': slots,
      'slots-available': 0,
      taskmanagers: 1,
    };
  });

  app.get('/jobs', async () => {
    const jobs = [];
    for (const job of registry.jobs()) jobs.push({ id: job.id, status: (await sampleOf(registry, job))?.status ?? 'CREATED' });
    return { jobs };
  });

  app.get('/jobs/overview', async () => {
    const jobs = [];
    for (const job of registry.jobs()) {
      const sample = await sampleOf(registry, job);
      if (!sample) continue;
      const t = times(sample);
      jobs.push({
        jid: job.id,
        name: sample.name,
        state: sample.status,
        'start-time': t.start,
        'end-time': t.end,
        duration: t.duration,
        'last-modification': sample.now,
        tasks: taskCounts(job.graph, sample.status),
      });
    }
    return { jobs };
  });

  app.get<{ Params: { id: string } }>('/jobs/:id', { schema: { params: jobParams } }, async (request, reply) => {
    const job = findJob(request.params.id, reply);
    if (!job) return reply;
    const sample = await requireSample(registry, job);
    const t = times(sample);
    const byKey = new Map((registry.rates(job.id)?.subtasks ?? []).map((r) => [`${r.vertex}/${r.subtask}`, r]));
    return {
      jid: job.id,
      name: sample.name,
      isStoppable: job.graph.config.checkpointing !== undefined,
      state: sample.status,
      'start-time': t.start,
      'end-time': t.end,
      duration: t.duration,
      now: sample.now,
      attempt: sample.attempt,
      numRestarts: sample.numRestarts,
      vertices: job.graph.vertices.map((v) => {
        const subtasks = sample.subtasks.filter((s) => s.vertex === v.id);
        return {
          id: v.id,
          name: v.name,
          parallelism: v.parallelism,
          status: sample.status,
          'start-time': t.start,
          'end-time': t.end,
          duration: t.duration,
          tasks: taskCounts({ ...job.graph, vertices: [v] }, sample.status),
          metrics: flinkMetrics(
            subtasks,
            subtasks.map((s) => byKey.get(`${s.vertex}/${s.subtask}`)),
          ),
        };
      }),
      'status-counts': taskCounts(job.graph, sample.status),
      plan: planOf(job, sample.name),
    };
  });

  app.get<{ Params: { id: string } }>('/jobs/:id/plan', { schema: { params: jobParams } }, async (request, reply) => {
    const job = findJob(request.params.id, reply);
    if (!job) return reply;
    return { plan: planOf(job, job.graph.config.jobName) };
  });

  app.get<{ Params: { id: string; vid: string } }>(
    '/jobs/:id/vertices/:vid',
    { schema: { params: vertexParams } },
    async (request, reply) => {
      const found = findVertex(request.params, reply);
      if (!found) return reply;
      const { job, v } = found;
      const { sample, subtasks, rates } = await vertexData(job, v);
      return {
        id: v.id,
        name: v.name,
        parallelism: v.parallelism,
        now: sample.now,
        subtasks: subtasks.map((s, i) => ({
          subtask: s.subtask,
          status: sample.status,
          attempt: sample.attempt,
          'start-time': sample.startTime,
          duration: Math.max(0, sample.now - sample.startTime),
          metrics: flinkMetrics([s], [rates[i]]),
          watermarks: { input: s.inputWatermarks.map(wm), current: wm(s.currentInputWatermark), output: wm(s.currentOutputWatermark) },
          operators: s.operators,
        })),
      };
    },
  );

  app.get<{ Params: { id: string; vid: string }; Querystring: { get?: string; agg?: string; subtasks?: string } }>(
    '/jobs/:id/vertices/:vid/subtasks/metrics',
    {
      schema: {
        params: vertexParams,
        querystring: {
          type: 'object',
          properties: {
            get: { type: 'string', maxLength: 4096 },
            agg: { type: 'string', pattern: '^(min|max|avg|sum)(,(min|max|avg|sum))*$' },
            subtasks: { type: 'string', pattern: '^[0-9]+(,[0-9]+)*$' },
          },
        },
      },
    },
    async (request, reply) => {
      const found = findVertex(request.params, reply);
      if (!found) return reply;
      const { job, v } = found;
      const data = await vertexData(job, v);
      const chosen = request.query.subtasks?.split(',').map(Number);
      const values = data.subtasks
        .map((s, i) => ({ s, values: subtaskMetricValues(s, data.rates[i]) }))
        .filter((x) => !chosen || chosen.includes(x.s.subtask))
        .map((x) => x.values);
      const names = SUBTASK_METRICS;
      if (request.query.get === undefined) return names.map((id) => ({ id }));
      const aggs = (request.query.agg ?? 'min,max,avg,sum').split(',');
      return request.query.get
        .split(',')
        .filter((id) => names.includes(id))
        .map((id) => {
          const xs = values.map((x) => x[id]).filter((x): x is number => Number.isFinite(x));
          const out: Record<string, unknown> = { id };
          const empty = xs.length === 0;
          if (aggs.includes('min')) out.min = empty ? null : Math.min(...xs);
          if (aggs.includes('max')) out.max = empty ? null : Math.max(...xs);
          if (aggs.includes('avg')) out.avg = empty ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
          if (aggs.includes('sum')) out.sum = empty ? null : xs.reduce((a, b) => a + b, 0);
          return out;
        });
    },
  );

  app.get<{ Params: { id: string; vid: string } }>(
    '/jobs/:id/vertices/:vid/watermarks',
    { schema: { params: vertexParams } },
    async (request, reply) => {
      const found = findVertex(request.params, reply);
      if (!found) return reply;
      const { job, v } = found;
      const { subtasks } = await vertexData(job, v);
      const text = (w: number): string => (Number.isFinite(w) ? String(w) : w > 0 ? LONG_MAX : LONG_MIN);
      // Flink's names: every subtask's currentInputWatermark, and a two-input head's watermark per input.
      return subtasks.flatMap((s) => {
        const out = [{ id: `${s.subtask}.currentInputWatermark`, value: text(s.currentInputWatermark) }];
        const perInput = s.operators[0]?.inputWatermarks;
        if (perInput !== undefined && perInput.length === 2)
          perInput.forEach((w, i) => out.push({ id: `${s.subtask}.currentInput${i + 1}Watermark`, value: text(w) }));
        return out;
      });
    },
  );

  app.get<{ Params: { id: string; vid: string } }>(
    '/jobs/:id/vertices/:vid/backpressure',
    { schema: { params: vertexParams } },
    async (request, reply) => {
      const found = findVertex(request.params, reply);
      if (!found) return reply;
      const { job, v } = found;
      const { sample, subtasks, rates } = await vertexData(job, v);
      const rows = subtasks.map((s, i) => {
        const ratio = (rates[i]?.backPressuredTimeMsPerSecond ?? 0) / 1000;
        return {
          subtask: s.subtask,
          backpressureLevel: backpressureLevel(ratio),
          ratio,
          idleRatio: (rates[i]?.idleTimeMsPerSecond ?? 0) / 1000,
          busyRatio: (rates[i]?.busyTimeMsPerSecond ?? 0) / 1000,
        };
      });
      const worst = rows.reduce((a, r) => Math.max(a, r.ratio), 0);
      return { status: 'ok', backpressureLevel: backpressureLevel(worst), 'end-timestamp': sample.now, subtasks: rows };
    },
  );

  app.get<{ Params: { id: string } }>('/jobs/:id/checkpoints', { schema: { params: jobParams } }, async (request, reply) => {
    const job = findJob(request.params.id, reply);
    if (!job) return reply;
    const sample = await requireSample(registry, job);
    const c = sample.checkpoints;
    const newestFirst = [...c.history].reverse();
    const latest = (f: (e: CheckpointEntry) => boolean): Record<string, unknown> | null => {
      const e = newestFirst.find(f);
      return e ? checkpointJson(e) : null;
    };
    return {
      counts: {
        restored: 0,
        total: c.completed + c.failed + c.inProgress,
        in_progress: c.inProgress,
        completed: c.completed,
        failed: c.failed,
      },
      latest: {
        completed: latest((e) => e.status === 'COMPLETED' && e.kind === 'checkpoint'),
        savepoint: latest((e) => e.status === 'COMPLETED' && e.kind === 'savepoint'),
        failed: latest((e) => e.status === 'FAILED'),
        restored: null,
      },
      history: newestFirst.map(checkpointJson),
    };
  });

  app.get<{ Params: { id: string } }>('/jobs/:id/exceptions', { schema: { params: jobParams } }, async (request, reply) => {
    const job = findJob(request.params.id, reply);
    if (!job) return reply;
    const sample = await requireSample(registry, job);
    const entries = [...sample.exceptions].reverse().map((e) => ({
      exceptionName: e.message.split('\n')[0],
      stacktrace: e.message,
      timestamp: e.time,
      taskName: e.operator ?? null,
      subtask: e.subtask ?? null,
      attempt: e.attempt,
      action: e.action,
      concurrentExceptions: [],
    }));
    return { exceptionHistory: { entries, truncated: false } };
  });

  // Live state (issue 17): one key of a keyed state, read by the subtask that owns it between two records.
  app.get<{ Params: { id: string; uid: string; state: string }; Querystring: { key?: string } }>(
    '/jobs/:id/state/:uid/:state',
    {
      schema: {
        params: {
          type: 'object',
          properties: {
            id: jobParams.properties.id,
            uid: { type: 'string', minLength: 1, maxLength: 512 },
            state: { type: 'string', minLength: 1, maxLength: 512 },
          },
          required: ['id', 'uid', 'state'],
        },
        querystring: { type: 'object', properties: { key: { type: 'string' } } },
      },
    },
    async (request, reply) => {
      const job = findJob(request.params.id, reply);
      if (!job) return reply;
      const text = request.query.key;
      if (text === undefined) return sendError(reply, 400, 'give the key as ?key=… (JSON, e.g. 42 or "42"; other text is a string key)');
      if (!job.queryState) return sendError(reply, 501, `job ${job.id} does not answer state queries`);
      let key: unknown;
      try {
        key = JSON.parse(text) as unknown;
      } catch {
        key = text;
      }
      try {
        return await job.queryState(request.params.uid, request.params.state, key);
      } catch (error) {
        const code = (error as { code?: string }).code;
        return sendError(reply, code === 'WEIR_JOB_NOT_RUNNING' ? 409 : code === 'WEIR_STATE_ACCESS' ? 404 : 500, (error as Error).message);
      }
    },
  );

  app.get<{ Params: { id: string } }>('/jobs/:id/watermark-explain', { schema: { params: jobParams } }, async (request, reply) => {
    const job = findJob(request.params.id, reply);
    if (!job) return reply;
    return explainWatermarks(job.graph, await requireSample(registry, job));
  });
}
