// Slow-sink job for bench/unaligned.ts and the unaligned-checkpoint tests: a fast source, a keyed sequence check, and a sink many times slower than the source, checkpointed under backpressure.
import {
  KeyedProcessFunction,
  RestartStrategies,
  ValueStateDescriptor,
  defineJob,
  generatorSource,
  type Collector,
  type KeyedProcessContext,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';

/** Record i: key i / perKey at position i mod perKey of that key's sequence (one reader plays a key in order). */
export interface Step {
  key: number;
  seq: number;
}

/** Passes each key's sequence on, failing on a gap or a repeat (so a bad restore shows at once). */
class SequenceCheck extends KeyedProcessFunction<number, Step, [number, number]> {
  private last!: ValueState<number>;
  override open(ctx: RuntimeContext) {
    this.last = ctx.getState(new ValueStateDescriptor<number>('last-seq', -1));
  }
  processElement(step: Step, _ctx: KeyedProcessContext, out: Collector<[number, number]>) {
    const last = this.last.value() ?? -1;
    if (step.seq !== last + 1) throw new Error(`key ${step.key}: expected seq ${last + 1}, got ${step.seq}`);
    this.last.update(step.seq);
    out.collect([step.key, step.seq]);
  }
}

/**
 * Params: keys, perKey (records = keys × perKey), rate (source records/s, 0 = unthrottled),
 * sinkMs (busy time per record in the sink), interval and timeout (checkpoints, ms), unaligned
 * (true/false), alignedTimeout (ms), debloat (buffer debloat target in ms, 0 = off).
 */
export default defineJob((env, params) => {
  const keys = Number(params.keys ?? 8);
  const perKey = Number(params.perKey ?? 1000);
  const sinkMs = Number(params.sinkMs ?? 1);
  env.enableCheckpointing(Number(params.interval ?? 200));
  const checkpoints = env.getCheckpointConfig();
  checkpoints.setCheckpointTimeout(Number(params.timeout ?? 2000)).setTolerableCheckpointFailureNumber(1_000_000);
  if (params.unaligned === true || params.unaligned === 'true') checkpoints.enableUnalignedCheckpoints();
  if (params.alignedTimeout !== undefined) checkpoints.setAlignedCheckpointTimeout(Number(params.alignedTimeout));
  if (params.debloat !== undefined) env.setBufferDebloatTarget(Number(params.debloat));
  env.setRestartStrategy(RestartStrategies.fixedDelay(3, 50));
  env
    .fromSource(
      generatorSource<Step>({
        count: keys * perKey,
        generate: (i) => ({ key: Math.floor(i / perKey), seq: i % perKey }),
        recordsPerSecond: Number(params.rate ?? 0) || undefined,
        name: 'Steps',
      }),
    )
    .keyBy((s) => s.key)
    .process(new SequenceCheck())
    .name('Check')
    .map((r) => {
      // The slow sink: busy for sinkMs per record.
      const until = performance.now() + sinkMs;
      while (performance.now() < until);
      return r;
    })
    .name('Slow')
    .collect('out', { exactlyOnce: true });
});
