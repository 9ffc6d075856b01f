//! The small interfaces every operator, source and sink implements, and the contexts the runtime hands them.

import { ErrorCodes, WeirError } from '../core/errors.ts';
import type {
  AggregatingStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
} from '../state/descriptors.ts';
import type { OperatorStateStore } from '../state/operator-state.ts';
import type { HeapInternalTimerService } from '../state/timer-service.ts';
import type { KeyedStateBackend } from '../state/keyed-backend.ts';
import type { AggregatingState, ListState, MapState, ReducingState, ValueState } from '../state/state-types.ts';

/** Where an operator sends what it produces: the next chained operator, or record writers. */
export interface Output {
  /** Emits a record; `timestamp` is undefined for records without event time. */
  collect(value: unknown, timestamp: number | undefined): void;
  /** Emits a record to the side output `tag` (dropped when nothing reads that side output). */
  collectSide(tag: string, value: unknown, timestamp: number | undefined): void;
  /** Emits a watermark. */
  emitWatermark(timestamp: number): void;
  /** Tells downstream this output went idle (holds no watermark back) or active again. */
  emitWatermarkStatus(idle: boolean): void;
}

/** Processing time as an operator sees it: timer callbacks run as mails of its actor, between records. */
export interface OperatorProcessingTime {
  /** Current processing time in ms. */
  now(): number;
  /** Calls `callback(time)` in the actor once processing time reaches `time`; returns a cancel function. */
  registerTimer(time: number, callback: (time: number) => void): () => void;
}

/** What an operator may report to the coordinator (the `collect` sink uses it). */
export interface TaskReporter {
  /**
   * Hands records of a collect sink to the coordinator; a `commitKey` marks a two-phase commit,
   * which the coordinator applies once however often it is repeated after restores; `recovered`
   * marks the commit of a transaction found in restored state.
   */
  collect(sinkId: string, subtask: number, records: unknown[], commitKey?: string, recovered?: boolean): void;
}

/** Everything the runtime tells an operator about where it runs. */
export interface OperatorContext {
  /** Display name of the operator. */
  readonly operatorName: string;
  /** Stable id (uid or position-derived). */
  readonly operatorId: string;
  /** Name of the chain (task) the operator runs in. */
  readonly taskName: string;
  /** This subtask's index, from 0. */
  readonly subtaskIndex: number;
  /** Parallelism of the operator. */
  readonly parallelism: number;
  /** Number of key groups. */
  readonly maxParallelism: number;
  /** The keyed backend of a keyed operator (created on first use); throws on a non-keyed operator. */
  keyedBackend(): KeyedStateBackend;
  /** The operator's non-keyed state: list, union list and broadcast state (created on first use). */
  operatorStateStore(): OperatorStateStore;
  /** Whether the operator reads a keyed stream. */
  readonly keyed: boolean;
  /** Reports to the coordinator. */
  readonly reporter: TaskReporter;
  /** Processing-time clock and timers of this subtask. */
  readonly processingTime: OperatorProcessingTime;
  /** How often sources and timestamp assigners emit periodic watermarks (ms). */
  readonly autoWatermarkIntervalMs: number;
  /** Registers a timer service so checkpoints include its timers (restored ones are loaded into it now). */
  registerTimerService(name: string, service: HeapInternalTimerService<unknown, unknown>): void;
  /** Function states (a source reader's position, a sink writer's pending commits) restored for this subtask. */
  readonly restoredFunctionStates: readonly unknown[] | undefined;
}

/** One-input stream operator: Flink's OneInputStreamOperator, reduced to what a chain needs. */
export interface StreamOperator {
  /** Display name used in errors and metrics. */
  readonly name: string;
  /** Records this operator received. */
  recordsIn: number;
  /** Records this operator emitted. */
  recordsOut: number;
  /** Connects context and output; called once before {@link open}. */
  setup(context: OperatorContext, output: Output): void;
  /** Opens user functions; may be asynchronous. */
  open(): void | Promise<void>;
  /**
   * For a keyed operator, the key of its records on `input` (1 or 2); the runtime uses it to load
   * a batch's state before processing (RocksDB). Undefined for an input without keys.
   */
  inputKeySelector?(input: 1 | 2): ((value: unknown) => unknown) | undefined;
  /** Processes one record. */
  processElement(value: unknown, timestamp: number | undefined): void;
  /** Processes the combined watermark of the operator's inputs. */
  processWatermark(timestamp: number): void;
  /** All inputs went idle (true) or one became active again (false); default: forward it. */
  processWatermarkStatus?(idle: boolean): void;
  /** Processes a record of the second input (two-input operators only). */
  processElement2?(value: unknown, timestamp: number | undefined): void;
  /** Extra counters for metrics (e.g. `numLateRecordsDropped`). */
  counters?(): Record<string, number>;
  /**
   * At a checkpoint, before any state of the subtask is taken and before the barrier goes on
   * (Flink's `prepareSnapshotPreBarrier`): emit what is buffered outside state (a SQL mini-batch),
   * so its records precede the barrier. Called on a chain's operators from its head on.
   */
  prepareSnapshotPreBarrier?(checkpointId: number): void;
  /** At a checkpoint: the state of the user-facing function (reader position, writer commits), plain data. */
  snapshotFunctionState?(checkpointId: number): unknown;
  /** The checkpoint completed everywhere (two-phase commits commit here). */
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  /** The checkpoint was aborted. */
  notifyCheckpointAborted?(checkpointId: number): void;
  /** All inputs have ended: emit whatever is still buffered. */
  endInput(): void;
  /** Releases resources; may be asynchronous. */
  close(): void | Promise<void>;
  /** Keys of a batch's records, for backends that make state resident ahead of user code. */
  readonly keySelector?: (value: unknown) => unknown;
  /** Adds what only the operator knows to its live sample (watermarks, windows, `neverFires`); called when sampled, off the hot path. */
  sample?(into: import('../core/metrics.ts').OperatorSample): void;
}

/** What a source reader reports after a poll. */
export type SourceStatus = 'more' | 'end' | 'wait';

/** Where a source reader emits records. */
export interface SourceOutput<T = unknown> {
  /** Emits a record, with its event-time timestamp if it has one. */
  collect(value: T, timestamp?: number): void;
}

/**
 * The output a source reader gets (Flink's ReaderOutput): records of one split can go through a
 * split output of their own, which has its own watermark generator and idleness; the source's
 * watermark is the minimum over its active splits.
 */
export interface ReaderOutput<T = unknown> extends SourceOutput<T> {
  /** The output for one split (created on first use). */
  createOutputForSplit(splitId: string): SourceOutput<T>;
  /** The split is finished: it no longer holds the watermark back. */
  releaseOutputForSplit(splitId: string): void;
  /** Emits a record to the side output `tag` (read with `getSideOutput`; dropped when nothing reads it), e.g. a dead letter. */
  collectSide?(tag: string, value: unknown, timestamp?: number): void;
}

/** Where a source reader runs. */
export interface SourceReaderContext {
  readonly operatorName: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  /**
   * The reader states of the checkpoint restored from (from every subtask of the previous run, so
   * a reader can take its share at another parallelism); undefined on a fresh start.
   */
  readonly restoredStates?: readonly unknown[];
}

/**
 * Reads one subtask's share of a source (Flink's SourceReader, without splits for now): the
 * runtime calls {@link pollNext} with a record budget whenever its outputs have room.
 */
export interface SourceReader<T = unknown> {
  /** Prepares reading. */
  open?(): void | Promise<void>;
  /** Emits at most `maxRecords` records; `wait` means nothing is available until {@link available} resolves. */
  pollNext(output: ReaderOutput<T>, maxRecords: number): SourceStatus;
  /** Resolves when a reader that answered `wait` has data again. */
  available?(): Promise<void>;
  /** Its position at a checkpoint barrier (plain data: offsets, splits); a replayable reader resumes from it. */
  snapshotState?(checkpointId: number): unknown;
  /** The checkpoint completed (e.g. commit offsets to an external system, for information). */
  notifyCheckpointComplete?(checkpointId: number): void;
  /** Extra counters for metrics (e.g. `kafka.records_skipped`), reported as the source operator's counters. */
  counters?(): Record<string, number>;
  /** How samples name the reader's input when it uses no split outputs (e.g. `generator 1/2`; default `i/n`). */
  readonly mainSplitName?: string;
  /** Releases resources. */
  close?(): void | Promise<void>;
}

/** A source: how many subtasks it supports and how each reads its share. */
export interface Source<T = unknown> {
  /** Default operator name. */
  readonly name: string;
  /** Highest parallelism the source supports (1 for a non-parallel source such as a collection). */
  readonly maxParallelism?: number;
  /** Creates the reader for one subtask. */
  createReader(context: SourceReaderContext): SourceReader<T>;
}

/** Writes one subtask's share of a sink. */
export interface SinkWriter<T = unknown> {
  /** Prepares writing; `restored` holds the states this subtask's share had in the checkpoint restored from. */
  open?(restored?: readonly unknown[]): void | Promise<void>;
  /** Writes one record. */
  write(value: T, timestamp: number | undefined): void;
  /** All input has arrived. */
  endInput?(): void;
  /**
   * At a checkpoint barrier (synchronous part): pre-commit what was written since the last one
   * and return the writer's state (plain data, e.g. pending files to commit). Two-phase-commit
   * sinks commit it in {@link notifyCheckpointComplete}.
   */
  snapshotState?(checkpointId: number): unknown;
  /** The checkpoint completed on every subtask: commit what it pre-committed (idempotently). */
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>;
  /** The checkpoint was aborted: its pre-committed data stays pending for the next one. */
  notifyCheckpointAborted?(checkpointId: number): void;
  /** Releases resources (flushes what is left). */
  close?(): void | Promise<void>;
}

/** A sink: how each subtask writes. */
export interface Sink<T = unknown> {
  /** Default operator name. */
  readonly name: string;
  /** Highest parallelism the sink supports. */
  readonly maxParallelism?: number;
  /** Set by sinks that hand records to the caller (`context.reporter.collect`): `JobResult.collected[collectId]`. */
  readonly collectId?: string;
  /** Creates the writer for one subtask. */
  createWriter(context: OperatorContext): SinkWriter<T>;
  /**
   * Set by two-phase-commit sinks: output becomes visible when a checkpoint completes. A restore
   * that falls back past a checkpoint whose commits happened would write that output again, so the
   * runtime refuses it unless told otherwise (`allowReplayOfCommitted`) or the sink rewinds.
   */
  readonly commitsOnCheckpoint?: boolean;
  /**
   * Set by sinks whose restore undoes what was committed after the restored checkpoint (the
   * exactly-once file sink deletes those part files), so replaying from an older checkpoint
   * writes that output once again and the result stays exact.
   */
  readonly rewindsOnRestore?: boolean;
  /**
   * Called on the main thread after a run failed or was cancelled, once every subtask stopped:
   * removes what writers left half-written (never what a checkpoint may still commit).
   */
  cleanupAfterFailure?(): Promise<void>;
}

/** The context user functions get from `getRuntimeContext()`. */
export interface RuntimeContext {
  /** Name of the task (chain) the function runs in. */
  getTaskName(): string;
  /** Name of the operator the function belongs to. */
  getOperatorName(): string;
  /** This subtask's index, from 0. */
  getIndexOfThisSubtask(): number;
  /** The operator's parallelism. */
  getNumberOfParallelSubtasks(): number;
  /** Number of key groups of the job. */
  getMaxNumberOfParallelSubtasks(): number;
  /** Keyed value state, scoped to the current key; only on a keyed stream. */
  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>;
  /** Keyed list state, scoped to the current key; only on a keyed stream. */
  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  /** Keyed map state, scoped to the current key; only on a keyed stream. */
  getMapState<K, V>(descriptor: MapStateDescriptor<K, V>): MapState<K, V>;
  /** Keyed reducing state, scoped to the current key; only on a keyed stream. */
  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T>;
  /** Keyed aggregating state, scoped to the current key; only on a keyed stream. */
  getAggregatingState<IN, ACC, OUT>(descriptor: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, OUT>;
  /** Non-keyed state of this subtask (list, union list, broadcast), checkpointed and redistributed on rescale. */
  getOperatorStateStore(): OperatorStateStore;
}

/** The lifecycle hooks a user function may have (actor-style classes). */
export interface FunctionLifecycle {
  /** Receives the runtime context before {@link open}. */
  setRuntimeContext?(context: RuntimeContext): void;
  /** Called once per subtask before the first record. */
  open?(context: RuntimeContext): void | Promise<void>;
  /** Called once per subtask after the last record. */
  close?(): void | Promise<void>;
}

/** Builds the runtime context user functions of an operator see. */
export function createRuntimeContext(context: OperatorContext): RuntimeContext {
  const keyedBackend = (name: string): KeyedStateBackend => {
    if (!context.keyed) {
      throw new WeirError(
        `keyed state '${name}' requested in operator '${context.operatorName}', which does not read a keyed stream: use keyBy() first`,
        { code: ErrorCodes.STATE_ACCESS, domain: 'user', operator: context.operatorName, subtask: context.subtaskIndex },
      );
    }
    return context.keyedBackend();
  };
  return {
    getTaskName: () => context.taskName,
    getOperatorName: () => context.operatorName,
    getIndexOfThisSubtask: () => context.subtaskIndex,
    getNumberOfParallelSubtasks: () => context.parallelism,
    getMaxNumberOfParallelSubtasks: () => context.maxParallelism,
    getOperatorStateStore: () => context.operatorStateStore(),
    getState: <T>(descriptor: ValueStateDescriptor<T>) => keyedBackend(descriptor.name).getValueState(descriptor),
    getListState: <T>(descriptor: ListStateDescriptor<T>) => keyedBackend(descriptor.name).getListState(descriptor),
    getMapState: <K, V>(descriptor: MapStateDescriptor<K, V>) => keyedBackend(descriptor.name).getMapState(descriptor),
    getReducingState: <T>(descriptor: ReducingStateDescriptor<T>) => keyedBackend(descriptor.name).getReducingState(descriptor),
    getAggregatingState: <IN, ACC, OUT>(descriptor: AggregatingStateDescriptor<IN, ACC, OUT>) =>
      keyedBackend(descriptor.name).getAggregatingState(descriptor),
  };
}
