//! The small interfaces every operator, source and sink implements, and the contexts the runtime hands them.

import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { ValueStateDescriptor } from '../state/descriptors.ts';
import type { KeyedStateBackend, ValueState } from '../state/keyed-backend.ts';

/** Where an operator sends what it produces: the next chained operator, or record writers. */
export interface Output {
  /** Emits a record; `timestamp` is undefined for records without event time. */
  collect(value: unknown, timestamp: number | undefined): void;
  /** Emits a watermark. */
  emitWatermark(timestamp: number): void;
}

/** What an operator may report to the coordinator (the `collect` sink uses it). */
export interface TaskReporter {
  /** Hands records of a collect sink to the coordinator. */
  collect(sinkId: string, subtask: number, records: unknown[]): void;
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
  /** Whether the operator reads a keyed stream. */
  readonly keyed: boolean;
  /** Reports to the coordinator. */
  readonly reporter: TaskReporter;
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
  /** Processes one record. */
  processElement(value: unknown, timestamp: number | undefined): void;
  /** Processes the combined watermark of the operator's inputs. */
  processWatermark(timestamp: number): void;
  /** All inputs have ended: emit whatever is still buffered. */
  endInput(): void;
  /** Releases resources; may be asynchronous. */
  close(): void | Promise<void>;
  /** Keys of a batch's records, for backends that make state resident ahead of user code. */
  readonly keySelector?: (value: unknown) => unknown;
}

/** What a source reader reports after a poll. */
export type SourceStatus = 'more' | 'end' | 'wait';

/** Where a source reader emits records. */
export interface SourceOutput<T = unknown> {
  /** Emits a record, with its event-time timestamp if it has one. */
  collect(value: T, timestamp?: number): void;
}

/** Where a source reader runs. */
export interface SourceReaderContext {
  readonly operatorName: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
}

/**
 * Reads one subtask's share of a source (Flink's SourceReader, without splits for now): the
 * runtime calls {@link pollNext} with a record budget whenever its outputs have room.
 */
export interface SourceReader<T = unknown> {
  /** Prepares reading. */
  open?(): void | Promise<void>;
  /** Emits at most `maxRecords` records; `wait` means nothing is available until {@link available} resolves. */
  pollNext(output: SourceOutput<T>, maxRecords: number): SourceStatus;
  /** Resolves when a reader that answered `wait` has data again. */
  available?(): Promise<void>;
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
  /** Prepares writing. */
  open?(): void | Promise<void>;
  /** Writes one record. */
  write(value: T, timestamp: number | undefined): void;
  /** All input has arrived. */
  endInput?(): void;
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
  return {
    getTaskName: () => context.taskName,
    getOperatorName: () => context.operatorName,
    getIndexOfThisSubtask: () => context.subtaskIndex,
    getNumberOfParallelSubtasks: () => context.parallelism,
    getMaxNumberOfParallelSubtasks: () => context.maxParallelism,
    getState: <T>(descriptor: ValueStateDescriptor<T>) => {
      if (!context.keyed) {
        throw new WeirError(
          `keyed state '${descriptor.name}' requested in operator '${context.operatorName}', which does not read a keyed stream: use keyBy() first`,
          { code: ErrorCodes.STATE_ACCESS, domain: 'user', operator: context.operatorName, subtask: context.subtaskIndex },
        );
      }
      return context.keyedBackend().getValueState(descriptor);
    },
  };
}
