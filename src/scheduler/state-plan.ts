//! The state plan of a restore: how a savepoint's state maps onto a job graph, checked before anything is deployed (`weir plan`, and `weir run --from-savepoint`).

import type { OperatorContext, Output, StreamOperator } from '../actors/operator.ts';
import type { OperatorSubtaskState } from '../checkpoint/snapshots.ts';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { JobGraph } from '../graph/job-graph.ts';
import type { StateKind } from '../state/descriptors.ts';
import { HeapKeyedStateBackend, type StateDescription } from '../state/keyed-backend.ts';
import { keyGroupRangeForSubtask, type KeyGroupRange } from '../state/key-groups.ts';
import { HeapOperatorStateStore } from '../state/operator-state.ts';
import { Packr } from 'msgpackr';
import type { KeyGroupStateSnapshot } from '../state/snapshot-format.ts';
import { buildRestore, groupByOperator, holdsState, type CheckpointStates } from './restore.ts';

const unpackr = new Packr({ useRecords: true });

/**
 * The plan's verdict: `clean` restores as is (exit 0), `needs-allow-non-restored-state` drops
 * state of operators the job no longer has (exit 3 unless allowed), `fails` cannot restore (exit 4).
 */
export type PlanVerdict = 'clean' | 'needs-allow-non-restored-state' | 'fails';

/** What the plan knows of one keyed state: before (in the savepoint) and after (the new job's descriptor). */
export interface StatePlanEntry {
  name: string;
  /** `restored`; `new` (starts empty); `dropped` (no longer registered when the operator opens: kept, restored if registered later); `kind-changed` and `ttl-changed` (refused); `ttl-duration-changed` (allowed). */
  status: 'restored' | 'new' | 'dropped' | 'kind-changed' | 'ttl-changed' | 'ttl-duration-changed';
  before?: { kind: StateKind; ttl: boolean; ttlMs?: number };
  after?: { kind: StateKind; ttl: boolean; ttlMs?: number };
}

/** One operator of the plan, by uid (or derived id). */
export interface OperatorPlan {
  uid: string;
  /** Display name: the new job's, or for a dropped operator the savepoint's. */
  name: string;
  /** `restored`: the savepoint has its state; `new`: starts empty; `dropped`: the savepoint's, with no operator in the job; `skipped`: no operator in the job and no state (nothing lost, as in Flink). */
  status: 'restored' | 'new' | 'dropped' | 'skipped';
  /** Whether the uid was set with `.uid()` (false: derived from the position, changes with the graph). */
  explicitUid: boolean;
  /** What the savepoint holds for it (dropped and restored operators); `keyedEntries` only counted with `detail`. */
  holds?: { keyGroups: number; keyedEntries?: number; operatorState: boolean; functionState: boolean; timers: number };
  /** Parallelism in the savepoint and in the job. */
  parallelism: { before?: number; after?: number };
  /** Keyed states; empty for an operator without keyed state. */
  states: StatePlanEntry[];
  /** A keyed operator: the key groups each new subtask takes. */
  keyGroups?: { subtask: number; start: number; end: number }[];
  /** Why its descriptors are not known (the dry open failed), if so. */
  descriptorsUnknown?: string;
}

/** The state plan of restoring a savepoint into a job graph. */
export interface StatePlan {
  verdict: PlanVerdict;
  /** 0, 3 or 4 (see {@link PlanVerdict}). */
  exitCode: 0 | 3 | 4;
  job: string;
  maxParallelism: { savepoint?: number; job: number };
  operators: OperatorPlan[];
  /** What makes the restore fail (verdict `fails`). */
  problems: string[];
  /** What would need `--allow-non-restored-state`. */
  drops: string[];
  /** What is fine today but a trap (operators without uid), or worth knowing (TTL changes). */
  warnings: string[];
  /** Operators without uid whose state the savepoint holds under their derived id (restored only while the graph before them stays the same). */
  restoredByDerivedId: string[];
}

/** What the stored checkpoint's `info` says (written by execute.ts's snapshotOf). */
interface CheckpointInfo {
  maxParallelism?: number;
  operators?: { id: string; name: string; parallelism: number }[];
}

/** Options of {@link planRestore}. */
export interface PlanRestoreOptions {
  /**
   * Dry-open every keyed operator to read its descriptors (default: only those with state in the
   * savepoint), and count the savepoint's keyed entries (decoding every key group; without it only
   * checkpoints that do not record their descriptors are decoded, and only for descriptors).
   */
  detail?: boolean;
}

/** A checkpoint's entries by operator: operator-level entries decoded, key groups left encoded. */
interface SavedOperator {
  subtasks: (OperatorSubtaskState | undefined)[];
  keyGroups: Uint8Array[];
}

function groupEntries(states: CheckpointStates): Map<string, SavedOperator> {
  const { byOperator, encoded } = groupByOperator(states, true);
  return new Map(
    [...byOperator].map(([id, subtasks]) => [id, { subtasks, keyGroups: (encoded.get(id) ?? []).map((kg) => kg.bytes) }]),
  );
}

/** The operator's subtask states with their key groups decoded too (the whole state, for counting and older checkpoints' descriptors). */
function decodedSubtasks(op: SavedOperator): (OperatorSubtaskState | undefined)[] {
  if (op.keyGroups.length === 0) return op.subtasks;
  const keyed = op.keyGroups.map((b) => unpackr.unpack(b) as KeyGroupStateSnapshot);
  return [...op.subtasks, { keyed }];
}

/**
 * Compares a checkpoint's state with a job graph, without deploying anything: per operator uid
 * restored / new / dropped, keyed state descriptors whose kind or TTL changed (read by opening each
 * keyed operator once on this thread against an empty heap backend, as a subtask would open it),
 * operators without explicit uid, a changed max parallelism, and the key groups each new subtask
 * takes.
 */
export async function planRestore(
  graph: JobGraph,
  states: CheckpointStates,
  info: unknown,
  options: PlanRestoreOptions = {},
): Promise<StatePlan> {
  const meta = (info ?? {}) as CheckpointInfo;
  const byOperator = groupEntries(states);
  // Descriptors come from what the subtasks recorded; a checkpoint from before they were recorded is read whole.
  const subtasksOf = (op: SavedOperator) =>
    options.detail || (op.keyGroups.length > 0 && !op.subtasks.some((s) => s?.states !== undefined)) ? decodedSubtasks(op) : op.subtasks;
  const maxParallelism = graph.config.maxParallelism;
  const problems: string[] = [];
  const drops: string[] = [];
  const warnings: string[] = [];
  const operators: OperatorPlan[] = [];
  const savedName = new Map((meta.operators ?? []).map((o) => [o.id, o]));

  if (meta.maxParallelism !== undefined && meta.maxParallelism !== maxParallelism)
    problems.push(
      `max parallelism changed: the savepoint has ${meta.maxParallelism} key groups, the job ${maxParallelism}; keyed state cannot move to other key groups (keep maxParallelism ${meta.maxParallelism} for this job's life)`,
    );

  const used = new Set<string>();
  for (const node of graph.streamGraph.nodes) {
    const uid = graph.operatorIds[node.id];
    const name = graph.nodeNames[node.id];
    const saved = byOperator.get(uid);
    const subtasks = saved ? subtasksOf(saved) : undefined;
    const parallelism = graph.nodeParallelism[node.id];
    const plan: OperatorPlan = {
      uid,
      name,
      status: subtasks ? 'restored' : 'new',
      explicitUid: node.uid !== undefined,
      parallelism: { after: parallelism, ...(saved ? { before: savedName.get(uid)?.parallelism ?? saved.subtasks.length } : {}) },
      states: [],
    };
    if (subtasks) {
      used.add(uid);
      plan.holds = holdings(subtasks, saved?.keyGroups.length ?? 0, options.detail === true);
    }
    if (node.keyed) plan.keyGroups = keyGroupsOf(maxParallelism, parallelism);
    const before = subtasks ? savedDescriptors(subtasks) : new Map<string, StateDescription>();
    const isEndpoint = node.type === 'source' || node.type.endsWith('sink');
    if (node.keyed && !isEndpoint && (before.size > 0 || options.detail)) {
      const opened = await describeOperator(graph, node.id);
      if ('error' in opened) {
        plan.descriptorsUnknown = opened.error;
        warnings.push(
          `operator '${uid}' (${name}): could not open it to read its state descriptors (${opened.error}); its states are checked when it starts`,
        );
      }
      const after = 'states' in opened ? opened.states : undefined;
      plan.states = compareStates(before, after);
      for (const s of plan.states) {
        const was = s.before as NonNullable<StatePlanEntry['before']>;
        const now = s.after as NonNullable<StatePlanEntry['after']>;
        if (s.status === 'kind-changed')
          problems.push(
            `operator '${uid}' (${name}): state '${s.name}' was ${was.kind} state in the savepoint and is now registered as ${now.kind} state; a state's kind cannot change (give the new state another name)`,
          );
        else if (s.status === 'ttl-changed')
          problems.push(
            `operator '${uid}' (${name}): state '${s.name}' was snapshotted ${was.ttl ? 'with' : 'without'} TTL and is now registered ${now.ttl ? 'with' : 'without'} it; turning TTL on or off for existing state is not supported (as in Flink)`,
          );
        else if (s.status === 'ttl-duration-changed')
          warnings.push(
            `operator '${uid}' (${name}): state '${s.name}' TTL changes from ${was.ttlMs} ms to ${now.ttlMs} ms: restored entries expire by the new TTL`,
          );
      }
    } else if (before.size > 0) plan.states = compareStates(before, undefined);
    const savedAs = savedName.get(uid)?.name;
    if (!plan.explicitUid && subtasks && savedAs !== undefined && savedAs !== name)
      warnings.push(
        `operator '${name}' takes the state of the savepoint's operator '${savedAs}': both have the derived id '${uid}' (the graph changed before them); give both .uid('...') in the job that took the savepoint`,
      );
    if (!plan.explicitUid)
      warnings.push(
        `operator '${name}' has no uid: its id '${uid}' is derived from its position and changes when operators are added or removed before it; give it .uid('...') so savepoints keep mapping its state`,
      );
    operators.push(plan);
  }

  for (const [uid, op] of byOperator) {
    if (used.has(uid)) continue;
    const subtasks = subtasksOf(op);
    const holds = holdings(subtasks, op.keyGroups.length, options.detail === true);
    const saved = savedName.get(uid);
    const before = savedDescriptors(subtasks);
    // An operator without state is skipped, as Flink does: nothing is lost.
    const dropped = holdsState(subtasks, op.keyGroups.length);
    operators.push({
      uid,
      name: saved?.name ?? uid,
      status: dropped ? 'dropped' : 'skipped',
      explicitUid: !/^\d+-/.test(uid),
      holds,
      parallelism: { before: saved?.parallelism ?? op.subtasks.length },
      states: [...before.values()].map((d) => ({ name: d.name, status: 'dropped', before: descriptorOf(d) })),
    });
    if (dropped)
      drops.push(
        `operator '${uid}'${saved ? ` (${saved.name})` : ''} is in the savepoint (${describeHoldings(holds)}) but not in the job: its state is dropped, which needs --allow-non-restored-state (allowNonRestoredState)`,
      );
  }

  // What restore itself refuses beyond the above (unaligned in-flight data at a new parallelism).
  if (problems.length === 0) {
    try {
      buildRestore(graph, states, true);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }

  const verdict: PlanVerdict = problems.length > 0 ? 'fails' : drops.length > 0 ? 'needs-allow-non-restored-state' : 'clean';
  return {
    verdict,
    exitCode: verdict === 'fails' ? 4 : verdict === 'clean' ? 0 : 3,
    job: graph.config.jobName,
    maxParallelism: { ...(meta.maxParallelism !== undefined ? { savepoint: meta.maxParallelism } : {}), job: maxParallelism },
    operators,
    problems,
    drops,
    warnings,
    restoredByDerivedId: operators
      .filter(
        (o) => !o.explicitUid && o.status === 'restored' && describeHoldings(o.holds as NonNullable<OperatorPlan['holds']>) !== 'no state',
      )
      .map((o) => o.uid),
  };
}

/**
 * Refuses a restore whose plan fails, or drops state without `allowNonRestoredState`: a
 * WeirError (`WEIR_STATE_RESTORE`) with the plan's reasons, before any worker starts.
 */
export function checkStatePlan(plan: StatePlan, allowNonRestoredState: boolean | undefined, from: string, jobModule = '<job>'): void {
  if (plan.verdict === 'clean') return;
  if (plan.verdict === 'needs-allow-non-restored-state' && allowNonRestoredState) return;
  const reasons = plan.verdict === 'fails' ? plan.problems : plan.drops;
  throw new WeirError(
    `cannot restore job '${plan.job}' from ${from}: ${reasons.join('; ')} (see 'weir plan ${jobModule} --from-savepoint ${from}')`,
    { code: ErrorCodes.STATE_RESTORE, domain: 'user', retriable: false },
  );
}

function keyGroupsOf(maxParallelism: number, parallelism: number): { subtask: number; start: number; end: number }[] {
  return Array.from({ length: parallelism }, (_, s) => {
    const r: KeyGroupRange = keyGroupRangeForSubtask(maxParallelism, parallelism, s);
    return { subtask: s, start: r.start, end: r.end };
  });
}

function descriptorOf(d: StateDescription): { kind: StateKind; ttl: boolean; ttlMs?: number } {
  return { kind: d.kind, ttl: d.ttl, ...(d.ttlMs !== undefined ? { ttlMs: d.ttlMs } : {}) };
}

/**
 * The keyed states a savepoint knows of an operator: what its subtasks recorded (`states`, in
 * checkpoints written since plans exist) and, for older ones, the kind and TTL of every state
 * that has entries.
 */
function savedDescriptors(subtasks: readonly (OperatorSubtaskState | undefined)[]): Map<string, StateDescription> {
  const out = new Map<string, StateDescription>();
  for (const s of subtasks) for (const d of s?.states ?? []) if (!out.has(d.name) || d.ttlMs !== undefined) out.set(d.name, d);
  for (const s of subtasks)
    for (const kg of s?.keyed ?? [])
      for (const st of kg.states) if (!out.has(st.name)) out.set(st.name, { name: st.name, kind: st.kind, ttl: st.ttl });
  return out;
}

function compareStates(before: Map<string, StateDescription>, after: StateDescription[] | undefined): StatePlanEntry[] {
  const entries: StatePlanEntry[] = [];
  const now = new Map((after ?? []).map((d) => [d.name, d]));
  for (const [name, was] of before) {
    const is = now.get(name);
    if (!is) {
      // Unknown descriptors (the operator could not be opened) are assumed restored: the runtime checks them.
      entries.push({ name, status: after === undefined ? 'restored' : 'dropped', before: descriptorOf(was) });
      continue;
    }
    let status: StatePlanEntry['status'] = 'restored';
    if (was.kind !== is.kind) status = 'kind-changed';
    else if (was.ttl !== is.ttl) status = 'ttl-changed';
    else if (was.ttlMs !== undefined && is.ttlMs !== undefined && was.ttlMs !== is.ttlMs) status = 'ttl-duration-changed';
    entries.push({ name, status, before: descriptorOf(was), after: descriptorOf(is) });
  }
  for (const [name, is] of now) if (!before.has(name)) entries.push({ name, status: 'new', after: descriptorOf(is) });
  return entries.sort((a, b) => a.name.localeCompare(b.name));
}

function holdings(
  subtasks: readonly (OperatorSubtaskState | undefined)[],
  encodedKeyGroups: number,
  counted: boolean,
): NonNullable<OperatorPlan['holds']> {
  let keyGroups = counted ? 0 : encodedKeyGroups;
  let keyedEntries = 0;
  let operatorState = false;
  let functionState = false;
  let timers = 0;
  for (const s of subtasks) {
    if (!s) continue;
    for (const kg of s.keyed ?? []) {
      keyGroups++;
      for (const st of kg.states) keyedEntries += st.keys.length;
    }
    if (s.operator && ((s.operator.lists?.length ?? 0) > 0 || (s.operator.broadcast?.length ?? 0) > 0)) operatorState = true;
    if (s.function !== undefined) functionState = true;
    for (const list of Object.values(s.timers ?? {}))
      for (const t of list) timers += t.eventTime.timestamps.length + t.processingTime.timestamps.length;
  }
  return { keyGroups, ...(counted ? { keyedEntries } : {}), operatorState, functionState, timers };
}

/** What an operator's state in a savepoint amounts to, in words. */
export function describeHoldings(h: NonNullable<OperatorPlan['holds']>): string {
  const parts: string[] = [];
  if (h.keyedEntries !== undefined && h.keyedEntries > 0)
    parts.push(`${h.keyedEntries} keyed entr${h.keyedEntries === 1 ? 'y' : 'ies'} in ${h.keyGroups} key group(s)`);
  else if (h.keyGroups > 0) parts.push(`keyed state in ${h.keyGroups} key group(s)`);
  if (h.timers > 0) parts.push(`${h.timers} timer(s)`);
  if (h.operatorState) parts.push('operator state');
  if (h.functionState) parts.push('function state');
  return parts.length > 0 ? parts.join(', ') : 'no state';
}

/** How long the dry open of one operator may take. */
const DRY_OPEN_TIMEOUT_MS = 5_000;

/**
 * Opens one instance of a keyed operator on this thread against an empty heap backend and reads
 * the states it registers: what a subtask registers as it opens. Nothing runs beyond `open()`
 * and `close()`; states registered later (on first record) are not seen.
 */
async function describeOperator(graph: JobGraph, nodeId: number): Promise<{ states: StateDescription[] } | { error: string }> {
  const node = graph.streamGraph.node(nodeId);
  const name = graph.nodeNames[nodeId];
  const maxParallelism = graph.config.maxParallelism;
  const backend = new HeapKeyedStateBackend(maxParallelism, { start: 0, end: maxParallelism - 1 }, name);
  let operator: StreamOperator | undefined;
  try {
    operator = node.createOperator(name);
    const context: OperatorContext = {
      operatorName: name,
      operatorId: graph.operatorIds[nodeId],
      taskName: name,
      subtaskIndex: 0,
      parallelism: graph.nodeParallelism[nodeId],
      maxParallelism,
      keyed: true,
      reporter: { collect: () => undefined },
      processingTime: { now: () => Date.now(), registerTimer: () => () => undefined },
      autoWatermarkIntervalMs: graph.config.autoWatermarkIntervalMs,
      registerTimerService: () => undefined,
      restoredFunctionStates: undefined,
      operatorStateStore: () => new HeapOperatorStateStore(name),
      keyedBackend: () => backend,
    };
    const output: Output = {
      collect: () => undefined,
      collectSide: () => undefined,
      emitWatermark: () => undefined,
      emitWatermarkStatus: () => undefined,
    };
    operator.setup(context, output);
    // An open() that waits on something outside (a connection) must not hold up a deploy.
    let timer: NodeJS.Timeout | undefined;
    const opened = await Promise.race([
      Promise.resolve(operator.open()).then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), DRY_OPEN_TIMEOUT_MS))),
    ]).finally(() => clearTimeout(timer));
    if (!opened) return { error: `open() did not return within ${DRY_OPEN_TIMEOUT_MS} ms` };
    return { states: backend.describeStates() };
  } catch (error) {
    return { error: (error as Error)?.message ?? String(error) };
  } finally {
    try {
      await operator?.close();
    } catch {
      // closing the dry instance is best effort
    }
    backend.dispose();
  }
}
