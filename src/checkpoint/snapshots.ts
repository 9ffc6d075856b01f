//! What a checkpoint holds per operator and subtask, and how a restore hands it out again at any parallelism.

import { ErrorCodes, WeirError } from '../core/errors.ts';
import { keyGroupRangeForSubtask } from '../state/key-groups.ts';
import { redistributeOperatorState, type OperatorStateSnapshot } from '../state/operator-state.ts';
import type { StateDescription } from '../state/keyed-backend.ts';
import type { KeyGroupStateSnapshot } from '../state/snapshot-format.ts';
import type { TimerKeyGroupSnapshot } from '../state/timer-service.ts';
import { hasInFlightData, type ChannelStateSnapshot } from './channel-state.ts';

/** One operator's state in one subtask, as plain data (the checkpoint format's unit). */
export interface OperatorSubtaskState {
  /** Keyed state per key group that holds any. */
  keyed?: KeyGroupStateSnapshot[];
  /** Timers per timer service name, per key group that holds any. */
  timers?: Record<string, TimerKeyGroupSnapshot[]>;
  /** Operator (non-keyed) state: list, union and broadcast state. */
  operator?: OperatorStateSnapshot;
  /** The user-facing function's own state: a source reader's position, a sink writer's pending commits. */
  function?: unknown;
  /** In-flight data of an unaligned checkpoint, kept with the head operator of the subtask's chain. */
  channels?: ChannelStateSnapshot;
  /**
   * The keyed states the subtask's backend knew (name, kind, TTL), written since the state plan
   * (`weir plan`) compares them with a new job's; absent in older checkpoints.
   */
  states?: StateDescription[];
}

/** Separates an operator id from a key group in checkpoint entry names (`<operator>\u0001kg<n>`). */
const KEY_GROUP_MARK = '\u0001kg';

/** The entry name of one key group of an operator's keyed state. */
export function keyGroupEntry(operatorId: string, keyGroup: number): string {
  return `${operatorId}${KEY_GROUP_MARK}${keyGroup}`;
}

/** Splits an entry name into the operator id and, for keyed state, its key group. */
export function parseEntry(name: string): { operatorId: string; keyGroup?: number } {
  const mark = name.indexOf(KEY_GROUP_MARK);
  if (mark < 0) return { operatorId: name };
  return { operatorId: name.slice(0, mark), keyGroup: Number(name.slice(mark + KEY_GROUP_MARK.length)) };
}

/** What a restored operator subtask gets. */
export interface RestoredOperatorState {
  /** Keyed state of the key groups this subtask owns now. */
  keyed: KeyGroupStateSnapshot[];
  /** Timers of the key groups this subtask owns now, per timer service. */
  timers: Record<string, TimerKeyGroupSnapshot[]>;
  /** Operator state redistributed to this subtask. */
  operator?: OperatorStateSnapshot;
  /** Function states handed to this subtask (a source reader gets every old reader's, to take its share). */
  functions: unknown[];
  /** In-flight data of an unaligned checkpoint (head operators only; same parallelism only). */
  channels?: ChannelStateSnapshot;
}

/** One operator's states over all subtasks of the checkpointed run. */
export interface OperatorCheckpoint {
  /** Operator id (uid or derived). */
  id: string;
  /** Display name, for messages. */
  name: string;
  /** Parallelism of the run that took the checkpoint. */
  parallelism: number;
  /** Key groups of that run. */
  maxParallelism: number;
  /** Whether the operator is a source (readers take every old state) or a sink (writers split them). */
  role: 'source' | 'sink' | 'operator';
  /** One entry per old subtask (undefined where a subtask had no state). */
  subtasks: (OperatorSubtaskState | undefined)[];
}

/**
 * Hands an operator's checkpointed state to subtask `subtask` of `parallelism` new subtasks:
 * key groups by Flink's range formula, operator state by round-robin (union and broadcast to all),
 * source reader states to every reader (each takes its share), sink writer states split
 * round-robin (old subtask i goes to new subtask i mod parallelism).
 */
export function stateForSubtask(
  op: OperatorCheckpoint,
  subtask: number,
  parallelism: number,
  maxParallelism: number,
): RestoredOperatorState {
  if (op.maxParallelism !== maxParallelism) {
    throw new WeirError(
      `cannot restore operator '${op.name}' (${op.id}): the checkpoint has ${op.maxParallelism} key groups, the job ${maxParallelism}; maxParallelism must stay the same for a job's life`,
      { code: ErrorCodes.STATE_RESTORE, domain: 'user', operator: op.name },
    );
  }
  const range = keyGroupRangeForSubtask(maxParallelism, parallelism, subtask);
  const keyed: KeyGroupStateSnapshot[] = [];
  const timers: Record<string, TimerKeyGroupSnapshot[]> = {};
  const operatorStates: OperatorStateSnapshot[] = [];
  const functions: unknown[] = [];
  op.subtasks.forEach((old, i) => {
    if (!old) return;
    for (const kg of old.keyed ?? []) if (kg.keyGroup >= range.start && kg.keyGroup <= range.end) keyed.push(kg);
    for (const [name, list] of Object.entries(old.timers ?? {})) {
      for (const t of list) if (t.keyGroup >= range.start && t.keyGroup <= range.end) (timers[name] ??= []).push(t);
    }
    if (old.operator) operatorStates.push(old.operator);
    if (old.function !== undefined) {
      if (op.role === 'source' || i % parallelism === subtask) functions.push(old.function);
    }
  });
  let operator: OperatorStateSnapshot | undefined;
  if (operatorStates.length > 0) {
    if (op.parallelism === parallelism) operator = op.subtasks[subtask]?.operator;
    else {
      const empty: OperatorStateSnapshot = { version: operatorStates[0].version, lists: [], broadcast: [] };
      operator = redistributeOperatorState(
        op.subtasks.map((o) => o?.operator ?? empty),
        parallelism,
      )[subtask];
    }
  }
  let channels: ChannelStateSnapshot | undefined;
  if (op.parallelism === parallelism) channels = op.subtasks[subtask]?.channels;
  else if (op.subtasks.some((old) => hasInFlightData(old?.channels))) throw inFlightRescaleError(op.name, op.parallelism, parallelism);
  return { keyed, timers, operator, functions, ...(channels ? { channels } : {}) };
}

/**
 * Rescaling a checkpoint that holds in-flight data (an unaligned checkpoint) is refused: the
 * batches were cut for the old channels. (Flink redistributes them; weir does not yet.)
 */
export function inFlightRescaleError(operator: string, was: number, now: number): WeirError {
  return new WeirError(
    `cannot restore this checkpoint at a new parallelism: it is an unaligned checkpoint whose in-flight data belongs to the old channels, and operator '${operator}' ran at parallelism ${was}, now ${now}; rescale from a savepoint (savepoints are always aligned) or from a checkpoint taken without unaligned checkpoints`,
    { code: ErrorCodes.STATE_RESTORE, domain: 'user', operator },
  );
}
