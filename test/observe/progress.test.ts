// The CLI's live status area, frame by frame, from crafted samples of a real job graph: rates, backpressure, the lowest watermark, the last checkpoint.
import { describe, expect, it } from 'vitest';
import { computeRates } from '../../src/observe/registry.ts';
import { formatDuration, renderProgress } from '../../src/observe/progress.ts';
import { NOW, ordersGraph, ordersSample } from './rest-fixtures.ts';

describe('renderProgress', () => {
  it('shows input and output rates, the most backpressured task, the lowest watermark with its lag, and the last checkpoint', () => {
    // one second later, every counter doubled: the source wrote 1,000 records, each window subtask read 500
    const before = ordersSample();
    const sample = ordersSample({ scale: 2, now: NOW + 1000 });
    expect(renderProgress({ graph: ordersGraph(), sample, rates: computeRates(sample, before) })).toEqual([
      "job 01234567 'orders' RUNNING for 51 min 11 s, 1 restart(s)",
      '  in 1.0 k records/s   out 1.0 k records/s',
      "  backpressure: 'Map' 60 % (high)",
      "  lowest watermark 2026-12-03 10:42:10.000 at 'Map' (9 min 1 s behind the clock)",
      '  last savepoint 3 completed in 250 ms, 8 kB, 21 min 11 s ago',
    ]);
  });

  it('says the job is deploying before its first subtask answered', () => {
    const sample = { ...ordersSample(), subtasks: [], status: 'CREATED' as const, numRestarts: 0 };
    expect(renderProgress({ graph: ordersGraph(), sample, rates: undefined })).toEqual([
      "job 01234567 'orders' CREATED for 51 min 10 s",
      '  deploying…',
    ]);
  });

  it('writes long lags in days', () => {
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000 + 5_000)).toBe('3 d 4 h');
    expect(formatDuration(999)).toBe('999 ms');
    expect(formatDuration(4_250)).toBe('4.3 s');
  });
});
