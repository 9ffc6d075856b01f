// The log of skipped records: the first N get a line each, then a count at most every interval, and what is left at close.
import { describe, expect, it } from 'vitest';
import { ErrorCodes, fileSource } from '../../src/index.ts';
import { SkippedRecordsLog, resolveSkippedRecordsLog } from '../../src/connectors/skipped-records-log.ts';

/** A log with a clock the test moves, writing into `lines`. */
function harness(first: number, everyMs: number) {
  const lines: string[] = [];
  let now = 1000;
  const log = new SkippedRecordsLog("file source 'F' (subtask 1)", { first, everyMs }, (l) => lines.push(l), () => now);
  return { lines, log, advance: (ms: number) => (now += ms) };
}

describe('SkippedRecordsLog', () => {
  it('logs the first records one line each, says the rest are counted, then counts at most every interval', () => {
    const { lines, log, advance } = harness(2, 5000);
    let total = 0;
    const skip = (n: number) => log.skipped(() => `record ${n}: why ${n}`, ++total);
    skip(1);
    skip(2);
    for (let n = 3; n <= 6; n++) skip(n); // within the interval: counted, no line
    advance(4999);
    log.tick(total);
    expect(lines).toEqual([
      "weir: file source 'F' (subtask 1) skipped record 1: why 1",
      "weir: file source 'F' (subtask 1) skipped record 2: why 2",
      "weir: file source 'F' (subtask 1): logged the first 2 skipped record(s); more are counted, one line every 5 s at most",
    ]);
    advance(1);
    skip(7); // the interval has passed: the count of 3..7
    skip(8);
    advance(5000);
    log.tick(total); // a poll after the interval: the count of 8
    log.tick(total); // nothing new
    skip(9);
    log.flush(total); // at close
    log.flush(total);
    expect(lines.slice(3)).toEqual([
      "weir: file source 'F' (subtask 1) skipped 5 more record(s) (7 in all)",
      "weir: file source 'F' (subtask 1) skipped 1 more record(s) (8 in all)",
      "weir: file source 'F' (subtask 1) skipped 1 more record(s) (9 in all)",
    ]);
  });

  it('with first 0, only counts; the description is not even built', () => {
    const { lines, log, advance } = harness(0, 1000);
    log.skipped(() => {
      throw new Error('not needed');
    }, 1);
    advance(1000);
    log.tick(1);
    expect(lines).toEqual(["weir: file source 'F' (subtask 1) skipped 1 more record(s) (1 in all)"]);
  });

  it('rejects a negative or fractional count and a negative interval, naming the source', () => {
    expect(resolveSkippedRecordsLog('x', undefined)).toEqual({ first: 10, everyMs: 5000 });
    expect(() => fileSource({ path: '/tmp', format: 'jsonl', onError: 'skip', logSkipped: { first: -1 } })).toThrow(
      expect.objectContaining({ code: ErrorCodes.CONFIG, message: 'fileSource: logSkipped.first must be a non-negative integer, got -1' }),
    );
    expect(() => resolveSkippedRecordsLog('kafkaSource', { first: 1.5 })).toThrow('kafkaSource: logSkipped.first must be a non-negative integer, got 1.5');
    expect(() => resolveSkippedRecordsLog('kafkaSource', { everyMs: -5 })).toThrow(
      'kafkaSource: logSkipped.everyMs must be a non-negative number of ms, got -5',
    );
  });
});
