// StreamTableEnvironment with an updating query: toChangelogStream gives the rows with their kinds (`$kind`), on the calling thread and on two worker threads; toDataStream refuses the updating table when the job is planned, as Flink's does.
import { describe, expect, it } from 'vitest';
import { executeJob } from '../../src/scheduler/execute.ts';
import { foldChangelog } from '../../src/sql/plan-changelog.ts';

const JOB = new URL('../fixtures/jobs/sql-changelog-bridge.ts', import.meta.url);

const parse = (line: string) => {
  const [kind, customer, n] = line.split(' ');
  return { $kind: kind, customer, n: Number(n) };
};

describe('StreamTableEnvironment changelogs', () => {
  it('toChangelogStream: +I for a new customer, then -U/+U per click (local, p=1)', async () => {
    const result = await executeJob(JOB, { mode: 'local', parallelism: 1, params: { rows: '9' } });
    expect(result.collected.out).toEqual([
      '+I c0 1',
      '+I c1 1',
      '+I c2 1',
      '+I c3 1',
      '+I c4 1',
      '+I c5 1',
      '+I c6 1',
      '-U c0 1',
      '+U c0 2',
      '-U c1 1',
      '+U c1 2',
    ]);
  });

  it('toChangelogStream on two worker threads: the changelog folds to the final counts', async () => {
    const result = await executeJob(JOB, { parallelism: 2, params: { rows: '700' } });
    const rows = (result.collected.out as string[]).map(parse);
    expect(rows).toHaveLength(7 + 2 * 693);
    const final = foldChangelog(rows).sort((a, b) => String(a.customer).localeCompare(String(b.customer)));
    expect(final).toEqual(Array.from({ length: 7 }, (_, i) => ({ customer: `c${i}`, n: 100 })));
  });

  it('toDataStream refuses an updating table, naming the node and pointing to toChangelogStream', async () => {
    await expect(executeJob(JOB, { mode: 'local', parallelism: 1, params: { read: 'datastream' } })).rejects.toThrow(
      "Table sink 'to-datastream-0' doesn't support consuming update changes which is produced by node GroupAggregate(groupBy=[customer], select=[customer, n]): toDataStream() takes insert-only tables; use toChangelogStream() for an updating one",
    );
  });
});
