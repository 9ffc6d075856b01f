//! The state-plan diff before a deploy: a job module's graph, built without running it, compared with a savepoint (`weir plan`).

import type { JobParams, StateBackendConfig } from '../core/protocol.ts';
import { loadJobDefinition, toModuleUrl } from '../scheduler/job-loader.ts';
import { loadRestoreCheckpoint } from '../scheduler/execute.ts';
import { describeHoldings, planRestore, type OperatorPlan, type StatePlan, type StatePlanEntry } from '../scheduler/state-plan.ts';

/** Options of {@link planJob}: the job as it would be deployed. */
export interface PlanJobOptions {
  /** The savepoint, retained checkpoint (`chk-N`), or run folder the job would start from. */
  fromSavepoint: string;
  /** Default parallelism of the job's operators (`-p`). */
  parallelism?: number;
  /** Number of key groups, when the job would be run with `--max-parallelism`. */
  maxParallelism?: number;
  /** The job's parameters (`--param k=v`). */
  params?: JobParams;
  /** The state backend (only shapes the job's config; the plan does not depend on it). */
  stateBackend?: StateBackendConfig;
}

/** A plan with the checkpoint it was made against. */
export interface JobPlan extends StatePlan {
  /** The folder read (the newest valid checkpoint's, for a run folder). */
  savepoint: { path: string; id: number; kind: string };
}

/**
 * Builds the job's graph from its module without running it and compares it with the savepoint:
 * per operator uid restored / new / dropped, state descriptors whose kind or TTL changed,
 * operators without uid, a changed max parallelism, the key groups of each new subtask. The
 * verdict's exit code is 0 (restores cleanly), 3 (needs `allowNonRestoredState`) or 4 (fails).
 */
export async function planJob(jobModule: string | URL, options: PlanJobOptions): Promise<JobPlan> {
  const definition = await loadJobDefinition(toModuleUrl(jobModule));
  const graph = await definition.buildJobGraph({
    parallelism: options.parallelism,
    maxParallelism: options.maxParallelism,
    params: options.params,
    stateBackend: options.stateBackend,
  });
  const { path, checkpoint } = await loadRestoreCheckpoint(options.fromSavepoint);
  const plan = await planRestore(graph, new Map(checkpoint.entries.map((e) => [e.name, e.data as Uint8Array])), checkpoint.info, {
    detail: true,
  });
  return { ...plan, savepoint: { path, id: checkpoint.id, kind: checkpoint.kind } };
}

const VERDICTS: Record<StatePlan['verdict'], string> = {
  clean: 'restores cleanly',
  'needs-allow-non-restored-state': 'needs --allow-non-restored-state (state would be dropped)',
  fails: 'would fail',
};

function describeState(d: NonNullable<StatePlanEntry['before']>): string {
  return `${d.kind}${d.ttl ? `, TTL${d.ttlMs !== undefined ? ` ${d.ttlMs} ms` : ''}` : ''}`;
}

function stateLine(s: StatePlanEntry, operatorDropped: boolean): string {
  const was = s.before ? describeState(s.before) : undefined;
  const now = s.after ? describeState(s.after) : undefined;
  switch (s.status) {
    case 'restored':
      return `${s.name}: ${now ?? was} — restored`;
    case 'new':
      return `${s.name}: ${now} — new (starts empty)`;
    case 'dropped':
      return operatorDropped
        ? `${s.name}: ${was} — dropped with its operator`
        : `${s.name}: ${was} — not registered when the operator opens (kept in its state; restored if registered later)`;
    case 'kind-changed':
      return `${s.name}: ${was} → ${now} — KIND CHANGED (refused)`;
    case 'ttl-changed':
      return `${s.name}: ${was} → ${now} — TTL TURNED ${s.after?.ttl ? 'ON' : 'OFF'} (refused)`;
    case 'ttl-duration-changed':
      return `${s.name}: ${was} → ${now} — TTL changed (allowed)`;
  }
}

function operatorLine(op: OperatorPlan): string {
  const p = op.parallelism;
  const parallelism =
    op.status === 'dropped' || op.status === 'skipped'
      ? `parallelism ${p.before}`
      : op.status === 'new'
        ? `parallelism ${p.after}`
        : `parallelism ${p.before === p.after ? p.after : `${p.before} → ${p.after}`}`;
  const what =
    op.status === 'restored'
      ? `restored (${describeHoldings(op.holds as NonNullable<OperatorPlan['holds']>)})`
      : op.status === 'new'
        ? 'new (starts empty)'
        : op.status === 'skipped'
          ? 'not in the job, held no state (skipped)'
          : `DROPPED (${describeHoldings(op.holds as NonNullable<OperatorPlan['holds']>)}): needs --allow-non-restored-state`;
  return `${op.uid}${op.uid === op.name ? '' : ` (${op.name})`}${op.explicitUid ? '' : ' [no uid]'}: ${what}, ${parallelism}`;
}

/** The plan as text, one operator per paragraph, then warnings and the verdict. */
export function formatPlan(plan: JobPlan): string {
  const mp = plan.maxParallelism;
  const lines = [
    `state plan of job '${plan.job}' from ${plan.savepoint.kind} ${plan.savepoint.id} at ${plan.savepoint.path}`,
    `max parallelism: ${mp.savepoint === undefined ? 'unknown in the savepoint' : mp.savepoint} → ${mp.job}${mp.savepoint !== undefined && mp.savepoint !== mp.job ? ' (CHANGED: refused)' : ''}`,
    '',
  ];
  for (const op of plan.operators) {
    lines.push(`  ${operatorLine(op)}`);
    for (const s of op.states) lines.push(`      state ${stateLine(s, op.status === 'dropped' || op.status === 'skipped')}`);
    if (op.descriptorsUnknown) lines.push(`      states: not known (${op.descriptorsUnknown})`);
    if (op.keyGroups && op.status !== 'dropped' && op.status !== 'skipped')
      lines.push(`      key groups: ${op.keyGroups.map((k) => `${k.subtask}:[${k.start}-${k.end}]`).join(' ')}`);
  }
  if (plan.warnings.length > 0) {
    lines.push('', 'warnings:');
    for (const w of plan.warnings) lines.push(`  - ${w}`);
  }
  lines.push('', `verdict: ${VERDICTS[plan.verdict]} (exit ${plan.exitCode})`);
  for (const p of plan.problems) lines.push(`  - ${p}`);
  for (const d of plan.drops) lines.push(`  - ${d}`);
  return lines.join('\n');
}
