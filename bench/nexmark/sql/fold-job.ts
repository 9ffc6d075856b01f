// The weir side of bench/nexmark/sql/vs-flink.ts: a SQL plan (made on the main thread, its sink a DataStream output)
// rebuilt on every worker, its changelog folded into the final table inside the job by a sink per subtask, with the
// two instants the rate is measured between: the first poll of a source reader and the last sink subtask's end of
// input (epoch ms with sub-ms precision, comparable across threads).

import type { SinkWriter, Source, SourceReader } from '../../../src/actors/operator.ts';
import type { StreamExecutionEnvironment } from '../../../src/api/environment.ts';
import { defineJob } from '../../../src/api/job.ts';
import { ROW_KIND, type SqlPlan } from '../../../src/sql/plan.ts';
import { buildGraph } from '../../../src/sql/runtime.ts';

type Row = Record<string, unknown>;

/** The collect id the fold sinks report under. */
export const FOLD_ID = 'sql-bench-fold';

/** What each fold sink subtask reports at its end of input. */
export interface FoldReport {
  /** This worker's first source poll (epoch ms), or null when no reader ran on it. */
  firstPoll: number | null;
  /** The end of input at this sink subtask (epoch ms). */
  end: number;
  /** [row as a JSON array of its values in column order, count] (counts may be negative in one subtask). */
  rows: [string, number][];
}

const now = () => performance.timeOrigin + performance.now();
const holder = globalThis as { __weirSqlBenchFirstPoll?: number };

/** A source whose readers stamp the worker's first poll. */
function stamped<T>(source: Source<T>): Source<T> {
  return {
    ...source,
    createReader(context) {
      const reader = source.createReader(context);
      const poll = reader.pollNext.bind(reader);
      reader.pollNext = (out, max) => {
        if (holder.__weirSqlBenchFirstPoll === undefined) holder.__weirSqlBenchFirstPoll = now();
        reader.pollNext = poll;
        return poll(out, max);
      };
      return reader as SourceReader<T>;
    },
  };
}

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  return v;
}

export default defineJob((env: StreamExecutionEnvironment, params) => {
  const plan = JSON.parse(params.plan as string) as SqlPlan;
  const columns = JSON.parse(params.columns as string) as string[];
  const fromSource = env.fromSource.bind(env);
  env.fromSource = ((source: Source<unknown>, a?: never, b?: never) => fromSource(stamped(source), a, b)) as typeof env.fromSource;
  const [out] = buildGraph(env, plan);
  out
    .sinkTo({
      name: 'Fold',
      collectId: FOLD_ID,
      createWriter: (ctx): SinkWriter<Row> => {
        const table = new Map<string, number>();
        return {
          write(r) {
            const key = JSON.stringify(columns.map((c) => plain(r[c])));
            const kind = (r[ROW_KIND] as string | undefined) ?? '+I';
            table.set(key, (table.get(key) ?? 0) + (kind === '+I' || kind === '+U' ? 1 : -1));
          },
          endInput() {
            const report: FoldReport = {
              firstPoll: holder.__weirSqlBenchFirstPoll ?? null,
              end: now(),
              rows: [...table].filter(([, n]) => n !== 0),
            };
            ctx.reporter.collect(FOLD_ID, ctx.subtaskIndex, [report]);
          },
        };
      },
    })
    .name('Fold');
});
