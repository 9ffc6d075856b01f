//! Sub-plan reuse (Flink's `table.optimizer.reuse-sub-plan-enabled`, on by default; `SET` it to 'false' to plan every read apart): plan nodes equal in kind, settings and inputs are built once and read by all their consumers.

import type { PlanNode } from './plan.ts';

const INPUT_FIELDS = ['input', 'inputs', 'left', 'right'] as const;

/**
 * The nodes with every repeated sub-plan kept once, in plan order: a view read twice (Nexmark's
 * `bid` in q5 and q7, `nexmark` under `person` and `auction` in q3 and q8) reads its source once.
 * The first of equal nodes keeps its id and uid, so the same query keeps the same uids. Sinks are
 * never merged; a self-join reads one node on both sides.
 */
export function reuseSubplans(nodes: readonly PlanNode[], config: Record<string, string> = {}): PlanNode[] {
  if (config['table.optimizer.reuse-sub-plan-enabled']?.trim().toLowerCase() === 'false') return nodes.slice();
  const canonical = new Map<number, number>();
  const bySignature = new Map<string, number>();
  const kept: PlanNode[] = [];
  const remap = (id: number) => canonical.get(id) ?? id;
  for (const node of nodes) {
    const copy = { ...node } as Record<string, unknown>;
    for (const f of INPUT_FIELDS) {
      const v = copy[f];
      if (typeof v === 'number') copy[f] = remap(v);
      else if (Array.isArray(v)) copy[f] = (v as number[]).map(remap);
    }
    if (node.kind !== 'sink') {
      const { id: _id, uid: _uid, ...content } = copy;
      const signature = JSON.stringify(content);
      const prior = bySignature.get(signature);
      if (prior !== undefined) {
        canonical.set(node.id, prior);
        continue;
      }
      bySignature.set(signature, node.id);
    }
    kept.push(copy as unknown as PlanNode);
  }
  return kept;
}
