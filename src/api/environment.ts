//! StreamExecutionEnvironment: job-wide settings, sources, and running the graph built on it.

import type { JobResult } from '../actors/job-master.ts';
import type { Source } from '../actors/operator.ts';
import { SourceOperator } from '../actors/source-operator.ts';
import { collectionSource, sequenceSource } from '../connectors/sources.ts';
import { configError } from '../core/errors.ts';
import type { JobOptions, StateBackendConfig } from '../core/protocol.ts';
import { buildJobGraph, type JobGraph } from '../graph/job-graph.ts';
import { StreamGraph, type JobConfig } from '../graph/stream-graph.ts';
import type { LocalOptions } from '../scheduler/local-runner.ts';
import { startGraph } from '../scheduler/execute.ts';
import { DEFAULT_MAX_PARALLELISM, UPPER_BOUND_MAX_PARALLELISM } from '../state/key-groups.ts';
import type { WatermarkStrategy } from '../time/watermark-strategy.ts';
import type { CheckpointingMode } from '../checkpoint/barrier-aligner.ts';
import type { RestartStrategy } from '../checkpoint/config.ts';

/** Setters of the checkpoint settings (Flink's CheckpointConfig). */
export interface CheckpointConfigSetters {
  setCheckpointTimeout(ms: number): CheckpointConfigSetters;
  setMinPauseBetweenCheckpoints(ms: number): CheckpointConfigSetters;
  setMaxConcurrentCheckpoints(n: number): CheckpointConfigSetters;
  setTolerableCheckpointFailureNumber(n: number): CheckpointConfigSetters;
  setRetainedCheckpoints(n: number): CheckpointConfigSetters;
  /**
   * Unaligned checkpoints (Flink's `enableUnalignedCheckpoints`): barriers overtake the batches
   * queued in channels, which are stored with the checkpoint and replayed first on restore, so
   * checkpoints complete under backpressure. Exactly-once mode only; savepoints stay aligned. A
   * checkpoint with in-flight data restores only at the parallelism it was taken with.
   */
  enableUnalignedCheckpoints(enabled?: boolean): CheckpointConfigSetters;
  /**
   * Starts each checkpoint aligned and switches it to unaligned in a subtask once this long has
   * passed since the trigger (Flink's `execution.checkpointing.aligned-checkpoint-timeout`);
   * 0 (default) = unaligned from the start. Only with unaligned checkpoints enabled.
   */
  setAlignedCheckpointTimeout(ms: number): CheckpointConfigSetters;
}
import { DataStream } from './datastream.ts';

/** Defaults of a job's settings. */
export const DEFAULTS = {
  parallelism: 1,
  maxParallelism: DEFAULT_MAX_PARALLELISM,
  bufferTimeoutMs: 5,
  batchSize: 1024,
  credits: 4,
  autoWatermarkIntervalMs: 200,
  bufferDebloatTargetMs: 1000,
} as const;

/**
 * The default state backend: `WEIR_STATE_BACKEND=rocksdb` (with `WEIR_ROCKSDB_DIR` and
 * `WEIR_ROCKSDB_CACHE_KEYS`) runs jobs that choose none on RocksDB; the test suite uses it to run
 * its keyed-state, window and timer suites on both backends.
 */
function stateBackendFromEnvironment(): StateBackendConfig {
  const kind = process.env.WEIR_STATE_BACKEND;
  if (kind === undefined || kind === '' || kind === 'heap') return { kind: 'heap' };
  if (kind !== 'rocksdb') throw configError(`WEIR_STATE_BACKEND must be 'heap' or 'rocksdb', got '${kind}'`);
  const cache = process.env.WEIR_ROCKSDB_CACHE_KEYS;
  const cacheKeys = cache ? Number(cache) : undefined;
  if (cacheKeys !== undefined && !(Number.isInteger(cacheKeys) && cacheKeys > 0))
    throw configError(`WEIR_ROCKSDB_CACHE_KEYS must be a positive integer, got '${cache}'`);
  return { kind, dir: process.env.WEIR_ROCKSDB_DIR || undefined, cacheKeys };
}

function positiveInteger(value: number, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(value) || value < 1 || value > max) throw configError(`${what} must be an integer in 1..${max}, got ${value}`);
  return value;
}

/**
 * The context a job is built in (Flink's StreamExecutionEnvironment): settings, sources, and
 * `execute()`. Inside `defineJob(env => ...)` the runtime creates it; a script may also create one
 * and `execute()` it on the calling thread.
 */
export class StreamExecutionEnvironment {
  private readonly config: JobConfig;
  private readonly graph: StreamGraph;

  constructor(options: JobOptions = {}) {
    this.config = {
      jobName: options.jobName ?? 'weir job',
      parallelism: DEFAULTS.parallelism,
      maxParallelism: DEFAULTS.maxParallelism,
      bufferTimeoutMs: DEFAULTS.bufferTimeoutMs,
      batchSize: DEFAULTS.batchSize,
      credits: DEFAULTS.credits,
      bufferDebloatTargetMs: DEFAULTS.bufferDebloatTargetMs,
      autoWatermarkIntervalMs: DEFAULTS.autoWatermarkIntervalMs,
      stateBackend: stateBackendFromEnvironment(),
    };
    if (options.parallelism !== undefined) this.setParallelism(options.parallelism);
    if (options.maxParallelism !== undefined) this.setMaxParallelism(options.maxParallelism);
    if (options.bufferTimeoutMs !== undefined) this.setBufferTimeout(options.bufferTimeoutMs);
    if (options.batchSize !== undefined) this.setBatchSize(options.batchSize);
    if (options.credits !== undefined) this.setCredits(options.credits);
    if (options.bufferDebloatTargetMs !== undefined) this.setBufferDebloatTarget(options.bufferDebloatTargetMs);
    if (options.autoWatermarkIntervalMs !== undefined) this.setAutoWatermarkInterval(options.autoWatermarkIntervalMs);
    if (options.stateBackend !== undefined)
      this.setStateBackend(options.stateBackend.kind, options.stateBackend as { dir?: string; cacheKeys?: number });
    this.graph = new StreamGraph(this.config);
  }

  /** A new environment (Flink's entry point name). */
  static getExecutionEnvironment(options?: JobOptions): StreamExecutionEnvironment {
    return new StreamExecutionEnvironment(options);
  }

  /** Default parallelism of operators that set none. */
  setParallelism(parallelism: number): this {
    this.config.parallelism = positiveInteger(parallelism, 'parallelism', UPPER_BOUND_MAX_PARALLELISM);
    return this;
  }
  /** The default parallelism. */
  getParallelism(): number {
    return this.config.parallelism;
  }
  /** Number of key groups, fixed for the job's life (default 128). */
  setMaxParallelism(maxParallelism: number): this {
    this.config.maxParallelism = positiveInteger(maxParallelism, 'maxParallelism', UPPER_BOUND_MAX_PARALLELISM);
    return this;
  }
  /** The number of key groups. */
  getMaxParallelism(): number {
    return this.config.maxParallelism;
  }
  /** How long a partial batch may wait before it is sent: 0 = after every record, -1 = only when full. */
  setBufferTimeout(ms: number): this {
    if (!(ms === -1 || (Number.isFinite(ms) && ms >= 0)))
      throw configError(`buffer timeout must be -1, 0 or a positive number of ms, got ${ms}`);
    this.config.bufferTimeoutMs = ms;
    return this;
  }
  /** The buffer timeout in ms. */
  getBufferTimeout(): number {
    return this.config.bufferTimeoutMs;
  }
  /** Elements per batch (a network buffer's worth). */
  setBatchSize(elements: number): this {
    this.config.batchSize = positiveInteger(elements, 'batch size', 1 << 20);
    return this;
  }
  /** Batches each input channel may hold (the credits it grants its sender). */
  setCredits(credits: number): this {
    this.config.credits = positiveInteger(credits, 'credits', 1 << 16);
    return this;
  }
  /**
   * Buffer debloating (Flink's `taskmanager.network.memory.buffer-debloat.target`): each input
   * measures how many records per second its subtask consumes and shrinks the batches its senders
   * fill so that all its credits together hold about `ms` of that throughput (never more than the
   * batch size). A slow consumer then has little queued ahead of a checkpoint barrier. Default
   * 1000 ms; 0 turns it off (every batch full size).
   */
  setBufferDebloatTarget(ms: number): this {
    if (!Number.isFinite(ms) || ms < 0) throw configError(`buffer debloat target must be a non-negative number of ms, got ${ms}`);
    this.config.bufferDebloatTargetMs = ms;
    return this;
  }
  /** How often periodic watermarks are emitted, in ms (0 turns periodic emission off). */
  setAutoWatermarkInterval(ms: number): this {
    if (!Number.isFinite(ms) || ms < 0) throw configError(`auto-watermark interval must be a non-negative number of ms, got ${ms}`);
    this.config.autoWatermarkIntervalMs = ms;
    return this;
  }
  /** The auto-watermark interval in ms. */
  getAutoWatermarkInterval(): number {
    return this.config.autoWatermarkIntervalMs;
  }
  /**
   * Takes a checkpoint every `intervalMs` (Flink's enableCheckpointing): exactly-once (aligned
   * barriers) by default, or at-least-once. A failed job then restarts from the last completed
   * checkpoint (fixed delay of 1 s, unlimited, unless a restart strategy is set).
   */
  enableCheckpointing(intervalMs: number, mode: CheckpointingMode = 'exactly-once'): this {
    positiveInteger(intervalMs, 'checkpoint interval');
    if (mode !== 'exactly-once' && mode !== 'at-least-once')
      throw configError(`checkpointing mode must be 'exactly-once' or 'at-least-once', got ${String(mode)}`);
    this.config.checkpointing = {
      intervalMs,
      mode,
      timeoutMs: 10 * 60_000,
      minPauseMs: 0,
      maxConcurrent: 1,
      tolerableFailures: 0,
      retain: 1,
      ...(this.config.checkpointing ?? {}),
    };
    this.config.checkpointing.intervalMs = intervalMs;
    this.config.checkpointing.mode = mode;
    return this;
  }
  /**
   * Applies the checkpoint interval and mode given at submission (`weir run --checkpoint-interval`),
   * after the job's own code: they override its interval and mode and keep its other settings.
   */
  applySubmittedCheckpointing(options: JobOptions): void {
    if (options.checkpointIntervalMs === undefined) {
      if (options.checkpointMode !== undefined) throw configError('a checkpoint mode needs a checkpoint interval');
      return;
    }
    this.enableCheckpointing(options.checkpointIntervalMs, options.checkpointMode ?? this.config.checkpointing?.mode ?? 'exactly-once');
  }
  /** Checkpoint settings (timeout, minimum pause, concurrency, tolerable failures); enable checkpointing first. */
  getCheckpointConfig(): CheckpointConfigSetters {
    const config = this.config;
    const cfg = () => {
      if (!config.checkpointing) throw configError('enable checkpointing first: env.enableCheckpointing(intervalMs)');
      return config.checkpointing;
    };
    const setters: CheckpointConfigSetters = {
      setCheckpointTimeout: (ms) => ((cfg().timeoutMs = positiveInteger(ms, 'checkpoint timeout')), setters),
      setMinPauseBetweenCheckpoints: (ms) => ((cfg().minPauseMs = Math.max(0, ms)), setters),
      setMaxConcurrentCheckpoints: (n) => ((cfg().maxConcurrent = positiveInteger(n, 'max concurrent checkpoints')), setters),
      setTolerableCheckpointFailureNumber: (n) => ((cfg().tolerableFailures = Math.max(0, Math.floor(n))), setters),
      setRetainedCheckpoints: (n) => ((cfg().retain = positiveInteger(n, 'retained checkpoints')), setters),
      enableUnalignedCheckpoints: (enabled = true) => {
        const c = cfg();
        if (enabled && c.mode !== 'exactly-once')
          throw configError('unaligned checkpoints need exactly-once mode: env.enableCheckpointing(intervalMs) without at-least-once');
        c.unaligned = enabled;
        return setters;
      },
      setAlignedCheckpointTimeout: (ms) => {
        if (!Number.isFinite(ms) || ms < 0) throw configError(`aligned checkpoint timeout must be a non-negative number of ms, got ${ms}`);
        cfg().alignedCheckpointTimeoutMs = ms;
        return setters;
      },
    };
    return setters;
  }
  /**
   * What to do when a subtask fails (see `RestartStrategies`). Without one: no restart, or with
   * checkpointing Flink's fixed delay, bounded — 3 restarts 1 s apart, then the job fails with the
   * last cause (`DEFAULT_CHECKPOINTING_RESTART_STRATEGY`). Errors marked non-retriable (a full or
   * read-only checkpoint folder, malformed input under the `fail` policy) fail the job at once.
   */
  setRestartStrategy(strategy: RestartStrategy): this {
    this.config.restartStrategy = strategy;
    return this;
  }
  /**
   * Where keyed state lives (Flink's state backend): `'heap'` (default) keeps it in Maps on the JS
   * heap; `'rocksdb'` keeps it in RocksDB on local disk under `dir` (default: the OS temp
   * directory), with a cache of `cacheKeys` keys (default 100,000) on the heap, so state can be
   * far larger than memory. Savepoints of either restore into the other.
   */
  setStateBackend(kind: 'heap' | 'rocksdb', options: { dir?: string; cacheKeys?: number } = {}): this {
    if (kind === 'heap') this.config.stateBackend = { kind };
    else if (kind === 'rocksdb') {
      if (options.cacheKeys !== undefined) positiveInteger(options.cacheKeys, 'RocksDB cacheKeys');
      this.config.stateBackend = { kind, dir: options.dir, cacheKeys: options.cacheKeys };
    } else throw configError(`unknown state backend '${String(kind)}': use 'heap' or 'rocksdb'`);
    return this;
  }
  /** The state backend settings. */
  getStateBackend(): StateBackendConfig {
    return this.config.stateBackend;
  }
  /** Names the job. */
  setJobName(name: string): this {
    this.config.jobName = name;
    return this;
  }

  /**
   * A stream read from a source, with event time from `strategy` (timestamps assigned and
   * watermarks generated in the source, per split). `fromSource(source, name)` reads without one.
   */
  fromSource<T>(source: Source<T>, strategyOrName?: WatermarkStrategy<T> | string, name?: string): DataStream<T> {
    const strategy = typeof strategyOrName === 'string' ? undefined : strategyOrName;
    const opName = typeof strategyOrName === 'string' ? strategyOrName : name;
    const node = this.graph.addNode({
      type: 'source',
      name: opName ?? source.name,
      chainable: true,
      keyed: false,
      inputs: [],
      maxSupportedParallelism: source.maxParallelism,
      createOperator: (nodeName: string) =>
        new SourceOperator(nodeName, source as Source, strategy as WatermarkStrategy<unknown> | undefined),
    });
    return new DataStream<T>(this.graph, [{ from: node.id, partitioner: { kind: 'auto' } }], node);
  }

  /** A bounded, non-parallel stream of these items. */
  fromCollection<T>(items: readonly T[], name?: string): DataStream<T> {
    if (!Array.isArray(items)) throw new TypeError('fromCollection() needs an array');
    return this.fromSource(collectionSource(items), name);
  }

  /** A bounded, non-parallel stream of the arguments. */
  fromElements<T>(...items: T[]): DataStream<T> {
    return this.fromSource(collectionSource(items), 'Elements Source');
  }

  /** The numbers `from..to` (inclusive), read in parallel. */
  fromSequence(from: number, to: number): DataStream<number> {
    return this.fromSource(sequenceSource(from, to));
  }

  /** The logical graph built so far. */
  getStreamGraph(): StreamGraph {
    return this.graph;
  }

  /** Resolves parallelism, chains operators and fingerprints the job. */
  buildJobGraph(): JobGraph {
    return buildJobGraph(this.graph);
  }

  /**
   * Runs the graph built on this environment on the calling thread (local mode) and resolves
   * with the result. To run on worker threads, put the graph in a job module and use
   * `executeJob(path)` or `weir run`.
   */
  async execute(jobNameOrOptions?: string | LocalOptions): Promise<JobResult> {
    if (typeof jobNameOrOptions === 'string') this.config.jobName = jobNameOrOptions;
    const local = typeof jobNameOrOptions === 'object' ? jobNameOrOptions : {};
    return startGraph(this.buildJobGraph(), { ...local, mode: 'local' }).result;
  }
}
