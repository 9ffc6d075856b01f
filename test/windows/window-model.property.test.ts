// Property tests: for random streams whose disorder stays within the watermark bound, tumbling, sliding and session windows equal a reference model, at parallelism 1, 2, 4 and in local mode.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { executeJob } from '../../src/index.ts';
import type { ModelEvent, WindowCase, WindowResult } from '../fixtures/jobs/windows-model.ts';

const JOB = 'test/fixtures/jobs/windows-model.ts';
const BOUND = 3000;

/** Events with non-decreasing base time and jitter within the bound: none is late. */
const streamArb = fc
  .array(
    fc.record({
      k: fc.oneof(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: -3, max: 3 })),
      step: fc.integer({ min: 0, max: 1500 }),
      jitter: fc.integer({ min: 0, max: BOUND }),
      v: fc.integer({ min: 1, max: 100 }),
    }),
    { minLength: 1, maxLength: 120 },
  )
  .map((raw) => {
    let base = fc.sample(fc.constant(0), 1)[0];
    return raw.map((r): ModelEvent => {
      base += r.step;
      return { k: r.k, ts: base - r.jitter - 5000, v: r.v };
    });
  });

const caseArb: fc.Arbitrary<WindowCase> = fc.oneof(
  fc.record({
    assigner: fc.constant('tumbling' as const),
    size: fc.constantFrom(1000, 2500, 10_000),
    fn: fc.constantFrom('reduce' as const, 'aggregate' as const, 'process' as const),
  }),
  fc
    .record({
      size: fc.constantFrom(4000, 9000, 10_000),
      slide: fc.constantFrom(1000, 2000, 3000, 5000),
      fn: fc.constantFrom('reduce' as const, 'aggregate' as const, 'process' as const),
    })
    .filter((c) => c.slide < c.size)
    .map((c) => ({ assigner: 'sliding' as const, ...c })),
  fc.record({
    assigner: fc.constant('session' as const),
    size: fc.constantFrom(500, 2000, 4000),
    fn: fc.constantFrom('reduce' as const, 'aggregate' as const, 'process' as const),
  }),
);

const floorTo = (t: number, size: number) => t - (((t % size) + size) % size);

/** The reference model: plain loops, no weir code. */
export function model(events: ModelEvent[], c: WindowCase): WindowResult[] {
  const sums = new Map<string, WindowResult>();
  const add = (key: string | number, start: number, end: number, v: number) => {
    const id = JSON.stringify([key, start, end]);
    const r = sums.get(id) ?? { key, start, end, value: 0 };
    r.value += v;
    sums.set(id, r);
  };
  if (c.assigner === 'tumbling') {
    for (const e of events) {
      const start = floorTo(e.ts, c.size);
      add(e.k, start, start + c.size, e.v);
    }
  } else if (c.assigner === 'sliding') {
    const slide = c.slide as number;
    for (const e of events) {
      for (let start = floorTo(e.ts, slide); start > e.ts - c.size; start -= slide) add(e.k, start, start + c.size, e.v);
    }
  } else {
    const byKey = new Map<string | number, ModelEvent[]>();
    for (const e of events) byKey.set(e.k, [...(byKey.get(e.k) ?? []), e]);
    for (const [key, list] of byKey) {
      list.sort((a, b) => a.ts - b.ts);
      let start = list[0].ts;
      let end = start + c.size;
      let value = 0;
      for (const e of list) {
        if (e.ts > end) {
          add(key, start, end, value);
          start = e.ts;
          value = 0;
        }
        end = Math.max(end, e.ts + c.size);
        value += e.v;
      }
      add(key, start, end, value);
    }
  }
  return [...sums.values()];
}

const canon = (rs: WindowResult[]) => rs.map((r) => JSON.stringify([r.key, r.start, r.end, r.value])).sort();

async function check(events: ModelEvent[], c: WindowCase, parallelism: number, mode: 'local' | 'threads') {
  const result = await executeJob(JOB, {
    mode,
    parallelism,
    params: { events: JSON.stringify(events), case: JSON.stringify(c), bound: BOUND },
  });
  expect(canon(result.collected.windows as WindowResult[])).toEqual(canon(model(events, c)));
  const late = result.subtasks.flatMap((s) => s.operators).reduce((n, o) => n + (o.counters?.numLateRecordsDropped ?? 0), 0);
  expect(late).toBe(0);
}

describe('windows equal the reference model', () => {
  it('in local mode at parallelism 1, 2 and 4 (200 random streams)', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb, caseArb, fc.constantFrom(1, 2, 4), async (events, c, p) => check(events, c, p, 'local')),
      { numRuns: Number(process.env.WEIR_PROPERTY_RUNS ?? 200) },
    );
  });

  for (const parallelism of [1, 2, 4]) {
    it(`on worker threads at parallelism ${parallelism}`, async () => {
      await fc.assert(
        fc.asyncProperty(streamArb, caseArb, async (events, c) => check(events, c, parallelism, 'threads')),
        { numRuns: 4 },
      );
    });
  }

  it('the model itself: a session is split exactly where the gap is exceeded', () => {
    const events: ModelEvent[] = [
      { k: 'a', ts: 0, v: 1 },
      { k: 'a', ts: 2000, v: 1 },
      { k: 'a', ts: 4001, v: 1 },
    ];
    expect(model(events, { assigner: 'session', size: 2000, fn: 'reduce' })).toEqual([
      { key: 'a', start: 0, end: 4000, value: 2 },
      { key: 'a', start: 4001, end: 6001, value: 1 },
    ]);
  });
});
