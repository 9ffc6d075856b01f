//! The logical graph the API builds: one node per operator, edges with partitioners, job-wide settings.

import type { Sink, StreamOperator } from '../actors/operator.ts';
import type { CheckpointConfig, RestartStrategy } from '../checkpoint/config.ts';
import type { StateBackendConfig } from '../core/protocol.ts';

export type { CheckpointConfig, RestartStrategy } from '../checkpoint/config.ts';

/** How records of an edge are distributed to the consumer's subtasks. */
export type PartitionerSpec =
  | { kind: 'auto' }
  | { kind: 'forward' }
  | { kind: 'rebalance' }
  | { kind: 'rescale' }
  | { kind: 'broadcast' }
  | { kind: 'hash'; keySelector: (value: unknown) => unknown };

/** The partitioner kinds an edge ends up with (`auto` resolved). */
export type PartitionerKind = Exclude<PartitionerSpec['kind'], 'auto'>;

/** One input of a node: the upstream node and how records reach this one. */
export interface StreamInput {
  from: number;
  partitioner: PartitionerSpec;
  /** Reads the upstream operator's side output with this tag instead of its main output. */
  sideOutputTag?: string;
  /** For two-input operators: which input (1 or 2) this edge feeds; 1 by default. */
  inputIndex?: 1 | 2;
}

/** One operator of the logical graph. */
export interface StreamNode {
  /** Position in the graph; stable for the same job code. */
  readonly id: number;
  /** What kind of operator, for the fingerprint and messages (`map`, `filter`, `source`, ...). */
  readonly type: string;
  /** Display name. */
  name: string;
  /** Stable id for state mapping, if the user gave one. */
  uid?: string;
  /** Parallelism, or undefined for the job default. */
  parallelism?: number;
  /** Highest parallelism the operator supports (1 for non-parallel sources). */
  maxSupportedParallelism?: number;
  /** False after `disableChaining()`: neither chained to its input nor its outputs chained to it. */
  chainable: boolean;
  /** Whether the node reads a keyed stream (has keyed state). */
  keyed: boolean;
  /** Whether the node is a two-input operator (connect, joins). */
  twoInput?: boolean;
  /** Inputs; empty for a source. */
  readonly inputs: StreamInput[];
  /** Makes the operator instance of one subtask; `name` is the node's job-unique display name. */
  readonly createOperator: (name: string) => StreamOperator;
  /** For a `collect` sink: the id results are gathered under. */
  collectId?: string;
  /** For a sink: the sink, as the job defined it (the main thread asks it about commits and cleanup). */
  sink?: Sink<unknown>;
}

/** Job-wide settings that shape the runtime. */
export interface JobConfig {
  /** Job name. */
  jobName: string;
  /** Default parallelism for operators that set none. */
  parallelism: number;
  /** Number of key groups (default 128). */
  maxParallelism: number;
  /** Buffer timeout in ms: 0 flushes every record, -1 only full batches. */
  bufferTimeoutMs: number;
  /** Elements per batch. */
  batchSize: number;
  /** Credits (batches) each input channel grants its sender. */
  credits: number;
  /** Buffer debloating: the time of throughput a channel's credits hold, in ms (0: off, batches stay full size). */
  bufferDebloatTargetMs: number;
  /** Interval of periodic watermark emission in ms (Flink's auto-watermark interval, default 200). */
  autoWatermarkIntervalMs: number;
  /** Checkpointing, when enabled. */
  checkpointing?: CheckpointConfig;
  /** What to do when a subtask fails. */
  restartStrategy?: RestartStrategy;
  /** Where keyed state lives. */
  stateBackend: StateBackendConfig;
}

/** The logical graph: nodes in creation order, which is a topological order. */
export class StreamGraph {
  readonly nodes: StreamNode[] = [];

  constructor(readonly config: JobConfig) {}

  /** Adds a node; its id is its position. */
  addNode(node: Omit<StreamNode, 'id'>): StreamNode {
    const full = { ...node, id: this.nodes.length } as StreamNode;
    this.nodes.push(full);
    return full;
  }

  /** The node with this id. */
  node(id: number): StreamNode {
    const node = this.nodes[id];
    if (!node) throw new Error(`no node ${id} in the stream graph`);
    return node;
  }
}
