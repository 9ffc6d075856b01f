//! Benchmark job (b): generator of keys → keyBy → rolling count per key → count sink (params: records, keys, impl).

import {
  KeyedProcessFunction,
  ValueStateDescriptor,
  defineJob,
  generatorSource,
  type Collector,
  type KeyedProcessContext,
  type ValueState,
} from '../../src/index.ts';
import { countSink } from './count-sink.ts';
import { generateKeyCount, keyCountChecksum, keyOf, type KeyCount } from './workloads.ts';

/** The rolling count written as a KeyedProcessFunction over a ValueState<number>. */
class RunningCount extends KeyedProcessFunction<number, KeyCount, KeyCount> {
  private counts!: ValueState<number>;
  override open(): void {
    this.counts = this.getRuntimeContext().getState(new ValueStateDescriptor<number>('count', 0));
  }
  processElement(value: KeyCount, _ctx: KeyedProcessContext, out: Collector<KeyCount>): void {
    const count = (this.counts.value() as number) + value.count;
    this.counts.update(count);
    out.collect({ key: value.key, count });
  }
}

/**
 * `impl=sum` (default): `.keyBy(key).sum('count')`, Flink's rolling aggregation.
 * `impl=state`: a KeyedProcessFunction with ValueState, emitting `{ key, count }`.
 */
export default defineJob((env, params) => {
  const records = Number(params.records ?? 1_000_000);
  const keys = Number(params.keys ?? 10_000);
  const keyed = env
    .fromSource(generatorSource<KeyCount>({ count: records, generate: (i) => generateKeyCount(i, keys), name: 'Keys' }))
    .keyBy(keyOf);
  const counted = params.impl === 'state' ? keyed.process(new RunningCount()).name('Running Count') : keyed.sum('count');
  counted.sinkTo(countSink(keyCountChecksum));
});
