// A savepoint of weir f7df86a, which named tumbling and sliding windows (and panes) by their text key "start:end" in state and timers,
// restores into windows named by their start: the restored run emits what f7df86a itself emits restoring that savepoint.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executeJob } from '../../src/index.ts';

const JOB = 'test/fixtures/jobs/window-savepoint.ts';
const SAVEPOINT = 'test/fixtures/savepoints/window-f7df86a/savepoint-3-d8772987';

/** What f7df86a emits restoring the savepoint (test/fixtures/savepoints/make-window-savepoint.ts, run there). */
const EXPECTED = [
  'slide-list a [10000,16000) 150,160,170,180,190,1110,1135',
  'slide-list a [12000,18000) 180,190,1135,1160',
  'slide-list a [14000,20000) 1160',
  'slide-list a [16000,22000) 1160',
  'slide-list a [6000,12000) 90,100,110,120,130,140,150,160,170,1110',
  'slide-list a [8000,14000) 120,130,140,150,160,170,180,190,1110,1135',
  'slide-list b [10000,16000) 151,161,171,181,191,1111,1136',
  'slide-list b [12000,18000) 171,181,191,1136,1161',
  'slide-list b [14000,20000) 1161',
  'slide-list b [16000,22000) 1161',
  'slide-list b [6000,12000) 91,101,111,121,131,141,151,161,1111',
  'slide-list b [8000,14000) 121,131,141,151,161,171,181,191,1111,1136',
  'slide-list c [10000,16000) 142,152,162,172,182,192,1112,1137',
  'slide-list c [12000,18000) 172,182,192,1137,1162',
  'slide-list c [14000,20000) 1162',
  'slide-list c [16000,22000) 1162',
  'slide-list c [6000,12000) 92,102,112,122,132,142,152,162,1112',
  'slide-list c [8000,14000) 122,132,142,152,162,172,182,192,1112,1137',
  'slide-reduce a [10000,16000) 3095',
  'slide-reduce a [12000,18000) 2665',
  'slide-reduce a [14000,20000) 1160',
  'slide-reduce a [16000,22000) 1160',
  'slide-reduce a [6000,12000) 2280',
  'slide-reduce a [8000,14000) 3485',
  'slide-reduce b [10000,16000) 3102',
  'slide-reduce b [12000,18000) 2840',
  'slide-reduce b [14000,20000) 1161',
  'slide-reduce b [16000,22000) 1161',
  'slide-reduce b [6000,12000) 2119',
  'slide-reduce b [8000,14000) 3495',
  'slide-reduce c [10000,16000) 3251',
  'slide-reduce c [12000,18000) 2845',
  'slide-reduce c [14000,20000) 1162',
  'slide-reduce c [16000,22000) 1162',
  'slide-reduce c [6000,12000) 2128',
  'slide-reduce c [8000,14000) 3505',
  'tumble-count a [10000,15000) 150,160,170,180,190,1110',
  'tumble-count b [10000,15000) 151,161,171,181,191,1111',
  'tumble-list a [10000,15000) 150,160,170,180,190,1110,1135',
  'tumble-list a [15000,20000) 1160',
  'tumble-list b [10000,15000) 151,161,171,181,191,1111,1136',
  'tumble-list b [15000,20000) 1161',
  'tumble-list c [10000,15000) 142,152,162,172,182,192,1112,1137',
  'tumble-list c [15000,20000) 1162',
  'tumble-reduce a [10000,15000) 3095',
  'tumble-reduce a [15000,20000) 1160',
  'tumble-reduce b [10000,15000) 3102',
  'tumble-reduce b [15000,20000) 1161',
  'tumble-reduce c [10000,15000) 3251',
  'tumble-reduce c [15000,20000) 1162',
];

describe('windows restored from a savepoint of an earlier weir version', () => {
  it('tumbling and sliding windows (reduce, panes, lists, a count trigger) keep the contents, trigger state and timers saved under "start:end"', async () => {
    // A copy: a restore never writes to the savepoint, but the fixture stays untouched whatever happens.
    const dir = mkdtempSync(join(tmpdir(), 'weir-window-savepoint-'));
    cpSync(SAVEPOINT, join(dir, 'savepoint'), { recursive: true });
    const result = await executeJob(JOB, {
      parallelism: 1,
      params: { phase: 'restore' },
      fromSavepoint: join(dir, 'savepoint'),
      // The source of the saving run (its own uid) has no place in the restored job.
      allowNonRestoredState: true,
    });
    expect((result.collected.out as string[]).slice().sort()).toEqual(EXPECTED);
  });
});
