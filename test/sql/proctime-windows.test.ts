// Processing-time windows in SQL: PROCTIME() makes a processing-time attribute; TUMBLE on it (the window TVF and the group window) assigns rows by the subtask's clock and fires when the clock passes the window's end, as Flink does (Nexmark q12).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScript, textOf } from '../../src/sql/parser.ts';
import { defineJob } from '../../src/api/job.ts';
import { executeJob } from '../../src/scheduler/execute.ts';
import { Schema, StreamTableEnvironment } from '../../src/sql/stream-table-environment.ts';
import { TableEnvironment } from '../../src/sql/table-environment.ts';
import { ManualProcessingTimeService } from '../../src/time/index.ts';
import { scriptedSource } from '../fixtures/scripted-source.ts';

describe('PROCTIME() windows', () => {
  it('count rows per key in tumbling windows of the subtask clock, TVF and group window alike; the open window does not fire at the end', async () => {
    const clock = new ManualProcessingTimeService(1_000);
    const job = defineJob(async (env) => {
      const tEnv = StreamTableEnvironment.create(env);
      const input = env.fromSource(
        scriptedSource([
          { value: { k: 'a', v: 1 } },
          { value: { k: 'b', v: 2 } },
          { value: { k: 'a', v: 5 } },
          { run: () => clock.advanceTo(4_500) },
          { value: { k: 'a', v: 3 } },
          { run: () => clock.advanceTo(10_000) },
          { value: { k: 'a', v: 4 } },
        ]),
      ) as never;
      const t = tEnv.fromDataStream(input, Schema.newBuilder().column('k', 'STRING').column('v', 'INT').build());
      const b = tEnv.sqlQuery(`SELECT *, PROCTIME() AS p_time FROM ${t}`);
      const tvf = tEnv.sqlQuery(`
        SELECT k, window_start, window_end, COUNT(*) AS n, SUM(v) AS total
        FROM TABLE(TUMBLE(TABLE ${b}, DESCRIPTOR(p_time), INTERVAL '2' SECOND))
        GROUP BY k, window_start, window_end`);
      const group = tEnv.sqlQuery(`
        SELECT k, TUMBLE_START(p_time, INTERVAL '2' SECOND) AS ws, TUMBLE_PROCTIME(p_time, INTERVAL '2' SECOND) AS pt, MAX(v) AS top
        FROM ${b} GROUP BY k, TUMBLE(p_time, INTERVAL '2' SECOND)`);
      (await tEnv.toDataStream(tvf))
        .map((r) => `${String(r.k)} [${String(r.window_start)}, ${String(r.window_end)}) n=${String(r.n)} total=${String(r.total)}`)
        .collect('tvf');
      (await tEnv.toDataStream(group)).map((r) => `${String(r.k)} ${String(r.ws)} ${String(r.pt)} top=${String(r.top)}`).collect('group');
    });
    const result = await executeJob(job, { mode: 'local', processingTime: clock, bufferTimeoutMs: 0 });
    // [0, 2000) fires when the clock passes 1999 (at 4500); [4000, 6000) at 10000; [10000, 12000) never: the job ends first.
    expect((result.collected.tvf as string[]).slice().sort()).toEqual([
      'a [0, 2000) n=2 total=6',
      'a [4000, 6000) n=1 total=3',
      'b [0, 2000) n=1 total=2',
    ]);
    expect((result.collected.group as string[]).slice().sort()).toEqual(['a 0 1999 top=5', 'a 4000 5999 top=3', 'b 0 1999 top=2']);
  });

  it('types PROCTIME() as TIMESTAMP_LTZ(3) *PROCTIME* and refuses what processing time cannot do, by name', async () => {
    const env = TableEnvironment.create({ mode: 'local' });
    await env.executeSql(
      "CREATE TABLE g (id BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen', 'number-of-rows' = '1')",
    );
    await env.executeSql("CREATE VIEW p AS SELECT id, PROCTIME() AS pt, PROCTIME() + INTERVAL '1' SECOND AS later FROM g");
    expect((await env.executeSql('DESCRIBE p')).rows.map((r) => `${String(r.name)} ${String(r.type)}`)).toEqual([
      'id BIGINT',
      'pt TIMESTAMP_LTZ(3) *PROCTIME*',
      'later TIMESTAMP_LTZ(3)',
    ]);
    await env.executeSql("CREATE TABLE h (id BIGINT, pt AS PROCTIME()) WITH ('connector' = 'datagen', 'number-of-rows' = '1')");
    expect((await env.executeSql('DESCRIBE h')).rows.map((r) => `${String(r.name)} ${String(r.type)}`)).toEqual([
      'id BIGINT',
      'pt TIMESTAMP_LTZ(3) *PROCTIME*',
    ]);
    await expect(
      env.explainSql(
        "SELECT window_start, COUNT(*) FROM TABLE(CUMULATE(TABLE p, DESCRIPTOR(pt), INTERVAL '1' SECOND, INTERVAL '2' SECOND)) GROUP BY window_start, window_end",
      ),
    ).rejects.toThrow('not supported yet: CUMULATE windows on processing time');
    await expect(
      env.explainSql("SELECT TUMBLE_ROWTIME(pt, INTERVAL '1' SECOND) FROM p GROUP BY TUMBLE(pt, INTERVAL '1' SECOND)"),
    ).rejects.toThrow("'TUMBLE_ROWTIME(pt, INTERVAL '1' SECOND)' needs a window on event time; use TUMBLE_PROCTIME");
    await expect(
      env.explainSql("SELECT TUMBLE_PROCTIME(ts, INTERVAL '1' SECOND) FROM g GROUP BY TUMBLE(ts, INTERVAL '1' SECOND)"),
    ).rejects.toThrow("'TUMBLE_PROCTIME(ts, INTERVAL '1' SECOND)' needs a window on processing time (PROCTIME()); use TUMBLE_ROWTIME");
  });

  it('runs Nexmark q12 (bench/nexmark/sql/q12.sql) on two threads: 10 s windows of the wall clock, no bid counted twice', async () => {
    const env = TableEnvironment.create({ parallelism: 2 });
    await env.executeScript(readFileSync(join('bench', 'nexmark', 'sql', 'ddl.sql'), 'utf8'));
    const script = readFileSync(join('bench', 'nexmark', 'sql', 'q12.sql'), 'utf8');
    const statements = parseScript(script);
    for (const s of statements) if (s.kind === 'create-view') await env.executeSql(textOf(script, s.loc));
    const insert = statements.find((s) => s.kind === 'insert');
    if (insert?.kind !== 'insert') throw new Error('q12.sql has no INSERT');
    const plan = await env.explainSql(textOf(script, insert.query.loc));
    expect(plan).toContain('"kind":"tumble","size":10000,"proctime":true');
    const result = await env.sqlQuery(textOf(script, insert.query.loc)).execute();
    const bids = (
      await env.executeSql(
        "SELECT COUNT(*) AS n FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(dateTime), INTERVAL '1' DAY)) GROUP BY window_start, window_end",
      )
    ).rows[0].n as number;
    expect(bids).toBeGreaterThan(0);
    for (const r of result.rows) {
      expect(r.bid_count as number).toBeGreaterThan(0);
      expect((r.endtime as number) - (r.starttime as number)).toBe(10_000);
      expect((r.starttime as number) % 10_000).toBe(0);
    }
    expect(result.rows.reduce((n, r) => n + (r.bid_count as number), 0)).toBeLessThanOrEqual(bids);
  });
});
