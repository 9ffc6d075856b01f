//! Compares the keyed state of two checkpoints or savepoints: per operator uid and state, the keys added, removed and changed, with examples.

import type { StateKind } from '../state/descriptors.ts';
import { readSavepoint, type KeyedStateEntry, type SavepointInfo, type SavepointReader } from './savepoint-reader.ts';
import { canonicalText, keyIdentity } from './state-values.ts';

/** A key whose value differs between the two. */
export interface ChangedEntry {
  key: unknown;
  namespace?: unknown;
  before: unknown;
  after: unknown;
}

/** An entry present on one side only. */
export interface LoneEntry {
  key: unknown;
  namespace?: unknown;
  value: unknown;
}

/** How one keyed state differs. */
export interface StateDiff {
  /** State name. */
  name: string;
  /** Its kind in `a`, when there. */
  kindBefore?: StateKind;
  /** Its kind in `b`, when there. */
  kindAfter?: StateKind;
  /** Entries (key, namespace) only in `b`. */
  added: number;
  /** Entries only in `a`. */
  removed: number;
  /** Entries in both with different values. */
  changed: number;
  /** Entries in both with equal values. */
  unchanged: number;
  /** The first few of each, in key-group order. */
  examples: { added: LoneEntry[]; removed: LoneEntry[]; changed: ChangedEntry[] };
}

/** How one operator differs. */
export interface OperatorDiff {
  uid: string;
  name: string;
  /** `added`: only `b` has this uid; `removed`: only `a`; `both` otherwise. */
  presence: 'both' | 'added' | 'removed';
  /** Its keyed states that differ or exist on one side only (states equal on both sides are left out). */
  states: StateDiff[];
}

/** The outcome of {@link diffSavepoints}. */
export interface SavepointDiff {
  a: SavepointInfo;
  b: SavepointInfo;
  /** Every operator uid of either side, `a`'s order first. */
  operators: OperatorDiff[];
}

/** Options of {@link diffSavepoints}. */
export interface DiffOptions {
  /** Examples kept per kind of difference, per state (default 3). */
  examples?: number;
}

/**
 * Compares the keyed state of two checkpoints or savepoints (folders as {@link readSavepoint}
 * takes them, or readers), entry by entry: an entry is a key, or a key and namespace (a window).
 * Values compare by content (field order aside).
 */
export async function diffSavepoints(
  a: string | SavepointReader,
  b: string | SavepointReader,
  options: DiffOptions = {},
): Promise<SavepointDiff> {
  const left = typeof a === 'string' ? readSavepoint(a) : a;
  const right = typeof b === 'string' ? readSavepoint(b) : b;
  const keep = options.examples ?? 3;
  const [aOps, bOps] = await Promise.all([left.operators(), right.operators()]);
  const uids = [...new Set([...aOps.map((o) => o.uid), ...bOps.map((o) => o.uid)])];
  const operators: OperatorDiff[] = [];
  for (const uid of uids) {
    const ao = aOps.find((o) => o.uid === uid);
    const bo = bOps.find((o) => o.uid === uid);
    const names = [...new Set([...(ao?.keyedStates ?? []).map((s) => s.name), ...(bo?.keyedStates ?? []).map((s) => s.name)])];
    const states: StateDiff[] = [];
    for (const name of names) {
      const as = ao?.keyedStates.find((s) => s.name === name);
      const bs = bo?.keyedStates.find((s) => s.name === name);
      const before = as ? await collect(left.operator(uid).keyedState(name)) : new Map<string, KeyedStateEntry>();
      const diff: StateDiff = {
        name,
        ...(as ? { kindBefore: as.kind } : {}),
        ...(bs ? { kindAfter: bs.kind } : {}),
        added: 0,
        removed: 0,
        changed: 0,
        unchanged: 0,
        examples: { added: [], removed: [], changed: [] },
      };
      if (bs) {
        for await (const e of right.operator(uid).keyedState(name)) {
          const id = keyIdentity(e.key, e.namespace);
          const old = before.get(id);
          if (old === undefined) {
            diff.added++;
            if (diff.examples.added.length < keep) diff.examples.added.push(lone(e));
            continue;
          }
          before.delete(id);
          if (canonicalText(old.value) === canonicalText(e.value)) diff.unchanged++;
          else {
            diff.changed++;
            if (diff.examples.changed.length < keep)
              diff.examples.changed.push({
                key: e.key,
                ...(e.namespace === undefined ? {} : { namespace: e.namespace }),
                before: old.value,
                after: e.value,
              });
          }
        }
      }
      for (const e of before.values()) {
        diff.removed++;
        if (diff.examples.removed.length < keep) diff.examples.removed.push(lone(e));
      }
      if (diff.added + diff.removed + diff.changed > 0 || diff.kindBefore !== diff.kindAfter) states.push(diff);
    }
    operators.push({ uid, name: (bo ?? ao)?.name ?? uid, presence: ao && bo ? 'both' : ao ? 'removed' : 'added', states });
  }
  return { a: await left.info(), b: await right.info(), operators };
}

async function collect(entries: AsyncIterable<KeyedStateEntry>): Promise<Map<string, KeyedStateEntry>> {
  const out = new Map<string, KeyedStateEntry>();
  for await (const e of entries) out.set(keyIdentity(e.key, e.namespace), e);
  return out;
}

function lone(e: KeyedStateEntry): LoneEntry {
  return { key: e.key, ...(e.namespace === undefined ? {} : { namespace: e.namespace }), value: e.value };
}
