// Copy-on-write snapshots of the heap backend: a snapshot sees state as of its start, whatever is written after, key group by key group.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { HeapKeyedStateBackend, ValueStateDescriptor, assignToKeyGroup } from '../../src/state/index.ts';
import type { KeyGroupStateSnapshot, KeyedSnapshotResult } from '../../src/state/index.ts';

const packr = new Packr({ useRecords: true });
const encode = (s: KeyGroupStateSnapshot) => new Uint8Array(packr.pack(s));

function backendWith(keys: number) {
  const backend = new HeapKeyedStateBackend(128, { start: 0, end: 127 });
  const state = backend.getValueState(new ValueStateDescriptor<number>('v'));
  for (let k = 0; k < keys; k++) {
    backend.setCurrentKey(k);
    state.update(k);
  }
  return { backend, state };
}

function values(blobs: Uint8Array[]): Map<unknown, unknown> {
  const out = new Map<unknown, unknown>();
  for (const blob of blobs) {
    const snap = packr.unpack(blob) as KeyGroupStateSnapshot;
    for (const st of snap.states) (st.keys as unknown[]).forEach((k, i) => out.set(k, (st.values as unknown[])[i]));
  }
  return out;
}

describe('copy-on-write snapshots', () => {
  it('keep the value a key had when the snapshot began, even when it is written before its key group is copied', () => {
    const { backend, state } = backendWith(1000);
    const progress = backend.beginSnapshot(encode);
    expect(progress.done).toBe(false);
    for (let k = 0; k < 1000; k += 7) {
      backend.setCurrentKey(k);
      state.update(-1);
    }
    const { groups, blobs } = progress.result() as KeyedSnapshotResult;
    // Key groups written to after the start were copied first; every key group with state is there once.
    const expected = [...new Set(Array.from({ length: 1000 }, (_, k) => assignToKeyGroup(k, 128)))].sort((a, b) => a - b);
    expect([...groups].sort((a, b) => a - b)).toEqual(expected);
    const snap = values(blobs);
    expect(snap.size).toBe(1000);
    for (let k = 0; k < 1000; k++) expect(snap.get(k)).toBe(k);
    backend.setCurrentKey(7);
    expect(state.value()).toBe(-1);
  });

  it('copies in bounded steps in the background', () => {
    const { backend } = backendWith(5000);
    const progress = backend.beginSnapshot(encode);
    let steps = 0;
    while (!progress.step(performance.now() - 1)) steps++;
    // A deadline already passed copies one key group per step: 128 key groups.
    expect(steps).toBe(127);
    expect(values((progress.result() as KeyedSnapshotResult).blobs).size).toBe(5000);
  });

  it('finishes a snapshot still copying before the next one begins', () => {
    const { backend, state } = backendWith(100);
    const first = backend.beginSnapshot(encode);
    const second = backend.beginSnapshot(encode);
    backend.setCurrentKey(3);
    state.update(300);
    expect(values((first.result() as KeyedSnapshotResult).blobs).get(3)).toBe(3);
    expect(values((second.result() as KeyedSnapshotResult).blobs).get(3)).toBe(3);
  });
});
