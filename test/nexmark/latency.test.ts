// The latency measure of the Nexmark harness: a real-time source never emits an event before its event time, the summary sink measures every output stamped after the warm-up, and quantiles of merged histograms.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NexmarkReader } from '../../src/connectors/nexmark/index.ts';
import { executeJob, nexmarkEvents } from '../../src/index.ts';
import { SUMMARY_ID, latencyQuantile, mergeResultSummaries, type ResultSummary } from '../../bench/nexmark/lib.ts';

describe('Nexmark latency measure', () => {
  it('a realTime reader emits only events whose event time the wall clock has reached', async () => {
    const baseTime = Date.now() + 50;
    const reader = new NexmarkReader({ events: 200, eventsPerSecond: 2_000, baseTime, realTime: true }, 0, 1);
    const seen: [number, number][] = [];
    const output = { collect: (_e: unknown, ts: number) => seen.push([ts, Date.now()]) };
    let status = 'more';
    while (status !== 'end') {
      status = reader.pollNext(output as never, 64);
      if (status === 'wait') await reader.available();
    }
    expect(seen.length).toBe(200);
    for (const [ts, at] of seen) expect(at).toBeGreaterThanOrEqual(ts);
  });

  it('the summary sink measures every q0 output stamped from latencyFrom on', async () => {
    const baseTime = Date.now() + 300;
    const params = { events: 1_000, rate: 5_000, baseTime, realTime: 1, latencyFrom: baseTime + 100 };
    const result = await executeJob(join('bench', 'nexmark', 'queries', 'q0.ts'), { parallelism: 2, params });
    const merged = mergeResultSummaries(result.collected[SUMMARY_ID] as ResultSummary[]);
    let expected = 0;
    let bids = 0;
    for (const { event } of nexmarkEvents({ events: 1_000, eventsPerSecond: 5_000, baseTime })) {
      if (event.kind !== 'bid') continue;
      bids++;
      if (event.dateTime >= baseTime + 100) expected++;
    }
    expect(merged.count).toBe(bids);
    let measured = 0;
    for (const [ms, c] of merged.latency ?? []) {
      expect(ms).toBeGreaterThanOrEqual(0);
      measured += c;
    }
    expect(measured).toBe(expected);
  });

  it('takes quantiles of merged [ms, count] pairs', () => {
    const pairs: [number, number][] = [
      [5, 50],
      [1, 49],
      [100, 1],
    ];
    expect(latencyQuantile(pairs, 0.5)).toBe(5);
    expect(latencyQuantile(pairs, 0.49)).toBe(1);
    expect(latencyQuantile(pairs, 0.99)).toBe(5);
    expect(latencyQuantile(pairs, 1)).toBe(100);
    expect(latencyQuantile([], 0.99)).toBeNaN();
  });
});
