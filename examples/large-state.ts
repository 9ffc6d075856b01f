// A keyed count over many distinct keys: state larger than a worker's memory, kept in RocksDB.
//   weir run examples/large-state.ts -p 2 --state-backend rocksdb --param keys=10000000
//   weir run examples/large-state.ts -p 2 --param keys=1000000          (heap backend)
//
// params: keys (1,000,000), rounds (each key is counted this often; 2), hot (0: every key in
// turn; n > 0: a hot set of n keys gets 9 of 10 events), checkpointMs (checkpoint interval; off).
// Each key's count lives in ValueState; when a key reaches its last event the job emits
// `[1, count]`, and the sink adds them up per subtask: the result must be `keys` completed keys
// whose counts sum to every event.
import {
  KeyedProcessFunction,
  ValueStateDescriptor,
  defineJob,
  type Collector,
  type KeyedProcessContext,
  type Sink,
  type SinkWriter,
  type ValueState,
} from '../src/index.ts';

/** Parameters of the job. */
export interface LargeStateParams {
  keys: number;
  rounds: number;
  hot: number;
}

/** Event `i`: its key. Every key occurs exactly `rounds` times over `keys * rounds` events. */
export function keyAt(i: number, { keys, hot }: LargeStateParams): number {
  if (hot <= 0) return i % keys;
  // 9 of 10 events go to the hot set (in order); the rest walk all keys, so every key still occurs `rounds` times.
  const block = Math.floor(i / 10);
  const slot = i % 10;
  return slot < 9 ? (block * 9 + slot) % hot : block % keys;
}

/** Keys that occur and events in the whole input, counted without weir. */
export function expectedTotals(p: LargeStateParams): { keys: number; events: number } {
  if (p.hot <= 0) return { keys: p.keys, events: p.keys * p.rounds };
  const counts = occurrences(p);
  let keys = 0;
  for (const c of counts) if (c > 0) keys++;
  return { keys, events: p.keys * p.rounds };
}

function occurrences(p: LargeStateParams): Uint32Array {
  const counts = new Uint32Array(p.keys);
  for (let i = 0; i < p.keys * p.rounds; i++) counts[keyAt(i, p)]++;
  return counts;
}

/** Counts events per key; emits `[1, count]` when a key has seen its last event. */
export class CompletionCount extends KeyedProcessFunction<number, number, [number, number]> {
  private count!: ValueState<number>;
  constructor(private readonly perKey: (key: number) => number) {
    super();
  }
  override open(): void {
    this.count = this.getRuntimeContext().getState(new ValueStateDescriptor<number>('count', 0));
  }
  processElement(key: number, _ctx: KeyedProcessContext, out: Collector<[number, number]>): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    if (n === this.perKey(key)) out.collect([1, n]);
  }
}

/** Adds up completed keys and their counts per subtask; sends `{ subtask, keys, events }` at close. */
export function totalsSink(id: string): Sink<[number, number]> & { collectId: string } {
  return {
    name: `Totals (${id})`,
    collectId: id,
    createWriter: (ctx): SinkWriter<[number, number]> => {
      let keys = 0;
      let events = 0;
      return {
        write: ([k, n]) => {
          keys += k;
          events += n;
        },
        close: () =>
          (ctx as unknown as { reporter: { collect(id: string, s: number, r: unknown[]): void } }).reporter.collect(id, ctx.subtaskIndex, [
            { subtask: ctx.subtaskIndex, keys, events },
          ]),
      };
    },
  };
}

/** The job's parameters from `--param`s. */
export function largeStateParams(params: Record<string, unknown>): LargeStateParams {
  return { keys: Number(params.keys ?? 1_000_000), rounds: Number(params.rounds ?? 2), hot: Number(params.hot ?? 0) };
}

/** How often each key occurs: `rounds` for all, in both key orders. */
function perKey(p: LargeStateParams): (key: number) => number {
  if (p.hot <= 0) return () => p.rounds;
  // With a hot set, occurrences are counted once per subtask (the same on every thread).
  const counts = occurrences(p);
  return (key) => counts[key];
}

export default defineJob((env, params) => {
  const p = largeStateParams(params);
  if (params.checkpointMs !== undefined) env.enableCheckpointing(Number(params.checkpointMs));
  env
    .fromSequence(0, p.keys * p.rounds - 1)
    .name('Events')
    .map((i) => keyAt(i, p))
    .name('Key')
    .keyBy((k) => k)
    .process(new CompletionCount(perKey(p)))
    .name('Count')
    .sinkTo(totalsSink('totals'));
});
