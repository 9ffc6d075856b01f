//! The metrics registry: samples every observed job at a fixed interval (off the hot path) and turns the cumulative counters into Flink-named rates.

import type { JobSample, SubtaskSample } from '../core/index.ts';
import type { JobClient } from '../scheduler/index.ts';

/**
 * What the observer needs of a running job: a narrow slice of {@link JobClient} (its id and
 * `sample()` come with the runtime's sampling), so that tests can observe a crafted job.
 */
export type ObservedJob = Pick<JobClient, 'graph' | 'result' | 'triggerSavepoint' | 'stopWithSavepoint' | 'checkpointPath'> &
  Partial<Pick<JobClient, 'queryState'>> & {
    /** 32 lower-case hex chars (Flink's JobID format). */
    readonly id: string;
    /** The job's live sample (every subtask's counters, checkpoints, exceptions). */
    sample(): Promise<JobSample>;
  };

/** Rates of one subtask over the last sampling interval, with Flink's metric names. */
export interface SubtaskRates {
  vertex: number;
  subtask: number;
  /** Cumulative: records into the chain's first operator / out of its last. */
  numRecordsIn: number;
  numRecordsOut: number;
  numRecordsInPerSecond: number;
  numRecordsOutPerSecond: number;
  busyTimeMsPerSecond: number;
  idleTimeMsPerSecond: number;
  backPressuredTimeMsPerSecond: number;
  currentInputWatermark: number;
  currentOutputWatermark: number;
}

/** Every subtask's rates at one sampling instant. */
export interface JobRates {
  at: number;
  subtasks: SubtaskRates[];
}

/** An alias kept for the contract's name: one point of a job's rate history. */
export type RateSample = JobRates;

/** Options of a {@link MetricsRegistry}. */
export interface MetricsRegistryOptions {
  /** Sampling interval in ms (default 1000). */
  intervalMs?: number;
  /** Rate points kept per job for charts (default 300). */
  historySize?: number;
}

interface Tracked {
  job: ObservedJob;
  latest?: JobSample;
  rates?: JobRates;
  history: JobRates[];
  timer?: NodeJS.Timeout;
  inFlight?: Promise<JobSample | undefined>;
  ended: boolean;
}

const chainIn = (s: SubtaskSample): number => s.operators[0]?.recordsIn ?? 0;
const chainOut = (s: SubtaskSample): number => s.operators[s.operators.length - 1]?.recordsOut ?? 0;

/** Per second over `dtMs`, never negative (a restart resets the counters). */
function perSecond(now: number, before: number | undefined, dtMs: number): number {
  if (before === undefined || dtMs <= 0) return 0;
  return Math.max(0, ((now - before) * 1000) / dtMs);
}

/**
 * Rates of `current` against the `previous` sample of the same job (the first sample has rates 0).
 * A subtask whose thread was too busy to answer repeats its previous sample (same `at`): it keeps
 * its `previousRates` rather than dropping to 0, and the next fresh sample averages over the
 * whole span.
 */
export function computeRates(current: JobSample, previous: JobSample | undefined, previousRates?: JobRates): JobRates {
  const before = new Map<string, SubtaskSample>();
  for (const s of previous?.subtasks ?? []) before.set(`${s.vertex}/${s.subtask}`, s);
  const lastRates = new Map<string, SubtaskRates>();
  for (const r of previousRates?.subtasks ?? []) lastRates.set(`${r.vertex}/${r.subtask}`, r);
  const subtasks = current.subtasks.map((s): SubtaskRates => {
    const p = before.get(`${s.vertex}/${s.subtask}`);
    const dt = p ? s.at - p.at : 0;
    const stale = p !== undefined && dt <= 0 ? lastRates.get(`${s.vertex}/${s.subtask}`) : undefined;
    if (stale) return stale;
    const timeRate = (now: number, was: number | undefined): number => Math.min(1000, perSecond(now, was, dt));
    return {
      vertex: s.vertex,
      subtask: s.subtask,
      numRecordsIn: chainIn(s),
      numRecordsOut: chainOut(s),
      numRecordsInPerSecond: perSecond(chainIn(s), p && chainIn(p), dt),
      numRecordsOutPerSecond: perSecond(chainOut(s), p && chainOut(p), dt),
      busyTimeMsPerSecond: timeRate(s.busyMs, p?.busyMs),
      idleTimeMsPerSecond: timeRate(s.idleMs, p?.idleMs),
      backPressuredTimeMsPerSecond: timeRate(s.backPressuredMs, p?.backPressuredMs),
      currentInputWatermark: s.currentInputWatermark,
      currentOutputWatermark: s.currentOutputWatermark,
    };
  });
  subtasks.sort((a, b) => a.vertex - b.vertex || a.subtask - b.subtask);
  return { at: current.now, subtasks };
}

/**
 * Samples observed jobs every `intervalMs` and keeps the latest sample, the rates over the last
 * interval and a bounded history of rates.
 *
 * Threading model: main thread only; at most one `sample()` per job in flight (a tick that finds
 * one running is skipped). Life cycle: a job is sampled from `addJob` until its `result` settles,
 * then once more (its final sample) and kept for the REST API; `close()` stops every timer.
 */
export class MetricsRegistry {
  readonly intervalMs: number;
  readonly historySize: number;
  private readonly tracked = new Map<string, Tracked>();
  private closed = false;

  constructor(options: MetricsRegistryOptions = {}) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.historySize = options.historySize ?? 300;
  }

  /** Starts sampling `client` every `intervalMs` (the timer does not keep the process alive). */
  addJob(client: ObservedJob): void {
    if (this.tracked.has(client.id)) return;
    const t: Tracked = { job: client, history: [], ended: false };
    this.tracked.set(client.id, t);
    if (this.closed) return;
    t.timer = setInterval(() => void this.take(t), this.intervalMs);
    t.timer.unref();
    void this.take(t);
    const end = (): void => {
      t.ended = true;
      if (t.timer) clearInterval(t.timer);
      t.timer = undefined;
      if (!this.closed) void this.take(t, true);
    };
    client.result.then(end, end);
  }

  /** Every job added, in the order added. */
  jobs(): ObservedJob[] {
    return [...this.tracked.values()].map((t) => t.job);
  }

  /** The job with this id. */
  job(id: string): ObservedJob | undefined {
    return this.tracked.get(id)?.job;
  }

  /** The last sample taken of the job. */
  latest(id: string): JobSample | undefined {
    return this.tracked.get(id)?.latest;
  }

  /** Per vertex and subtask: Flink-named rates over the last interval. */
  rates(id: string): JobRates | undefined {
    return this.tracked.get(id)?.rates;
  }

  /** The job's rates, oldest first (at most `historySize`). */
  history(id: string): JobRates[] {
    return [...(this.tracked.get(id)?.history ?? [])];
  }

  /** Samples the job now (or joins the sample in flight); the REST API uses it before the first tick. */
  async sampleNow(id: string): Promise<JobSample | undefined> {
    const t = this.tracked.get(id);
    return t ? this.take(t) : undefined;
  }

  /** Stops sampling. */
  close(): void {
    this.closed = true;
    for (const t of this.tracked.values()) {
      if (t.timer) clearInterval(t.timer);
      t.timer = undefined;
    }
  }

  private take(t: Tracked, final = false): Promise<JobSample | undefined> {
    if (t.inFlight && !final) return t.inFlight;
    const run = (t.inFlight ?? Promise.resolve(undefined)).then(async () => {
      try {
        const sample = await t.job.sample();
        if (t.latest && sample.now < t.latest.now) return t.latest;
        const rates = computeRates(sample, t.latest, t.rates);
        t.latest = sample;
        t.rates = rates;
        t.history.push(rates);
        if (t.history.length > this.historySize) t.history.splice(0, t.history.length - this.historySize);
        return sample;
      } catch {
        // A job that cannot answer keeps its previous sample (the runtime already waits at most 500 ms per slot).
        return t.latest;
      }
    });
    t.inFlight = run;
    void run.finally(() => {
      if (t.inFlight === run) t.inFlight = undefined;
    });
    return run;
  }
}
