//! Turns a completed checkpoint into what each subtask of a (possibly rescaled, possibly changed) job restores.

import { Packr } from 'msgpackr';
import type { OperatorCheckpoint, OperatorSubtaskState } from '../checkpoint/snapshots.ts';
import { inFlightRescaleError, parseEntry, stateForSubtask } from '../checkpoint/snapshots.ts';
import { decodeChannelState, hasInFlightData, parseChannelStateEntry } from '../checkpoint/channel-state.ts';
import type { KeyGroupStateSnapshot } from '../state/snapshot-format.ts';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { JobGraph } from '../graph/job-graph.ts';
import { keyGroupRangeForSubtask } from '../state/key-groups.ts';
import type { DeploymentRestore, RestoredOperator } from './task-executor.ts';

const unpackr = new Packr({ useRecords: true });

/** Encoded operator states of a checkpoint, by `operatorId/subtask`. */
export type CheckpointStates = ReadonlyMap<string, Uint8Array>;

/** A key group's keyed state as the checkpoint holds it, decoded by the subtask that restores it. */
export interface EncodedKeyGroup {
  keyGroup: number;
  /** A msgpack `KeyGroupStateSnapshot` (the checkpoint's own entry). */
  bytes: Uint8Array;
}

/** Groups a checkpoint's states by operator, every entry decoded. */
export function operatorsOf(states: CheckpointStates): Map<string, (OperatorSubtaskState | undefined)[]> {
  return groupByOperator(states).byOperator;
}

/**
 * Groups a checkpoint's states by operator; with `keepKeyGroupsEncoded`, the entries written one
 * per key group stay bytes (in `encoded`, by operator id), for the subtasks to decode.
 */
export function groupByOperator(
  states: CheckpointStates,
  keepKeyGroupsEncoded = false,
): { byOperator: Map<string, (OperatorSubtaskState | undefined)[]>; encoded: Map<string, EncodedKeyGroup[]> } {
  const byOperator = new Map<string, (OperatorSubtaskState | undefined)[]>();
  const encoded = new Map<string, EncodedKeyGroup[]>();
  const keyGroups: { id: string; subtask: number; bytes: Uint8Array }[] = [];
  const channelStates: { id: string; subtask: number; bytes: Uint8Array }[] = [];
  for (const [name, bytes] of states) {
    const slash = name.lastIndexOf('/');
    const subtask = Number(name.slice(slash + 1));
    const channelsOf = parseChannelStateEntry(name.slice(0, slash));
    if (channelsOf !== undefined) {
      channelStates.push({ id: channelsOf, subtask, bytes });
      continue;
    }
    const { operatorId: id, keyGroup } = parseEntry(name.slice(0, slash));
    if (keyGroup !== undefined) {
      if (keepKeyGroupsEncoded) {
        const list = encoded.get(id) ?? [];
        list.push({ keyGroup, bytes });
        encoded.set(id, list);
        // The operator exists in the checkpoint even when all its state is keyed.
        const subtasks = byOperator.get(id) ?? [];
        subtasks[subtask] ??= {};
        byOperator.set(id, subtasks);
      } else keyGroups.push({ id, subtask, bytes });
      continue;
    }
    const list = byOperator.get(id) ?? [];
    const decoded = unpackr.unpack(bytes) as OperatorSubtaskState;
    list[subtask] = { ...list[subtask], ...decoded, keyed: [...(list[subtask]?.keyed ?? []), ...(decoded.keyed ?? [])] };
    byOperator.set(id, list);
  }
  // Keyed state written one entry per key group (copy-on-write snapshots).
  for (const { id, subtask, bytes } of keyGroups) {
    const list = byOperator.get(id) ?? [];
    const entry = (list[subtask] ??= {});
    (entry.keyed ??= []).push(unpackr.unpack(bytes) as KeyGroupStateSnapshot);
    byOperator.set(id, list);
  }
  // In-flight data of unaligned checkpoints, kept with the head operator of each subtask.
  for (const { id, subtask, bytes } of channelStates) {
    const list = byOperator.get(id) ?? [];
    (list[subtask] ??= {}).channels = decodeChannelState(bytes);
    byOperator.set(id, list);
  }
  return { byOperator, encoded };
}

/**
 * Maps a checkpoint's state onto the job graph by operator id: each subtask of each operator gets
 * its key groups, its share of operator state, and the function states it restores from. State
 * of an operator the graph no longer has is an error unless `allowNonRestoredState`.
 */
export function buildRestore(graph: JobGraph, states: CheckpointStates, allowNonRestoredState = false): DeploymentRestore {
  // Key groups stay encoded here: each subtask decodes its own, in its own thread, in parallel.
  const { byOperator, encoded } = groupByOperator(states, true);
  // In-flight data ties a checkpoint to its channels: every operator must keep its parallelism.
  if ([...byOperator.values()].some((subtasks) => subtasks.some((s) => hasInFlightData(s?.channels)))) {
    for (const node of graph.streamGraph.nodes) {
      const was = byOperator.get(graph.operatorIds[node.id])?.length;
      const now = graph.nodeParallelism[node.id];
      if (was !== undefined && was !== now) throw inFlightRescaleError(graph.nodeNames[node.id], was, now);
    }
  }
  const restore: DeploymentRestore = {};
  const used = new Set<string>();
  for (const node of graph.streamGraph.nodes) {
    const id = graph.operatorIds[node.id];
    const subtasks = byOperator.get(id);
    if (!subtasks) continue;
    used.add(id);
    const op: OperatorCheckpoint = {
      id,
      name: graph.nodeNames[node.id],
      parallelism: subtasks.length,
      maxParallelism: graph.config.maxParallelism,
      role: node.type === 'source' ? 'source' : node.type.endsWith('sink') ? 'sink' : 'operator',
      subtasks,
    };
    const vertex = graph.vertexOfNode[node.id];
    const parallelism = graph.nodeParallelism[node.id];
    const keyGroups = encoded.get(id) ?? [];
    for (let s = 0; s < parallelism; s++) {
      const entry = (restore[`${vertex}/${s}`] ??= {});
      const state: RestoredOperator = stateForSubtask(op, s, parallelism, graph.config.maxParallelism);
      if (keyGroups.length > 0) {
        const range = keyGroupRangeForSubtask(graph.config.maxParallelism, parallelism, s);
        state.encodedKeyGroups = keyGroups.filter((kg) => kg.keyGroup >= range.start && kg.keyGroup <= range.end);
      }
      entry[id] = state;
    }
  }
  // As in Flink, an operator the job no longer has is skipped when it holds no state: only state that would be lost needs allowNonRestoredState.
  const dropped = [...byOperator.keys()].filter((id) => !used.has(id) && holdsState(byOperator.get(id) ?? [], encoded.get(id)?.length ?? 0));
  if (dropped.length > 0 && !allowNonRestoredState) {
    throw new WeirError(
      `the checkpoint holds state of operator(s) ${dropped.map((d) => `'${d}'`).join(', ')} that the job no longer has; give those operators their old uid, or restore with allowNonRestoredState to drop that state`,
      { code: ErrorCodes.STATE_RESTORE, domain: 'user', retriable: false },
    );
  }
  return restore;
}

/**
 * Whether an operator's subtask states in a checkpoint hold anything a restore would carry over: keyed entries (in
 * `encodedKeyGroups` entries written one per key group, or decoded), timers, operator or broadcast state, the function's
 * own state (a source's position, a sink's pending commits), or in-flight data.
 */
export function holdsState(subtasks: readonly (OperatorSubtaskState | undefined)[], encodedKeyGroups = 0): boolean {
  if (encodedKeyGroups > 0) return true;
  return subtasks.some(
    (s) =>
      s !== undefined &&
      ((s.keyed ?? []).some((kg) => kg.states.length > 0) ||
        Object.values(s.timers ?? {}).some((groups) => groups.length > 0) ||
        (s.operator?.lists?.length ?? 0) > 0 ||
        (s.operator?.broadcast?.length ?? 0) > 0 ||
        s.function !== undefined ||
        hasInFlightData(s.channels)),
  );
}
