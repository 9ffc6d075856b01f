//! Chaos benchmark job: interleaved per-key sequences → keyBy → sequence checker (ValueState) → exactly-once collect sink.

import {
  KeyedProcessFunction,
  RestartStrategies,
  ValueStateDescriptor,
  defineJob,
  exactlyOnceFileSink,
  generatorSource,
  type Collector,
  type KeyedProcessContext,
  type ValueState,
} from '../../src/index.ts';

/** Collect id of the checked sequence. */
export const CHAOS_OUT_ID = 'out';

/** A record: position `seq` in the sequence of key `key`. */
export interface SequenceStep {
  key: number;
  seq: number;
}

/**
 * Record `index` of `keys × perKey`, for a generator source of `parallelism` subtasks: each
 * reader's contiguous index range covers its own `keys / parallelism` keys, interleaved (key by
 * key, then the next sequence number), so a key's sequence is played by one reader, in order,
 * and many keys are live at once.
 */
export function stepOf(index: number, keys: number, perKey: number, parallelism: number): SequenceStep {
  const keysPerReader = keys / parallelism;
  const share = keysPerReader * perKey;
  const reader = Math.floor(index / share);
  const local = index - reader * share;
  return { key: reader * keysPerReader + (local % keysPerReader), seq: Math.floor(local / keysPerReader) };
}

/** The output code of a checked step: `key × perKey + seq`; a violation is `-1 - code`. */
export function stepCode(key: number, seq: number, perKey: number): number {
  return key * perKey + seq;
}

/**
 * Checks that each key's steps arrive in order, without gaps or repeats, against the last
 * sequence number kept in ValueState (restored from checkpoints). A violation is emitted as a
 * negative code instead of thrown, so that it is counted at the end rather than hidden by a restart.
 */
class SequenceChecker extends KeyedProcessFunction<number, SequenceStep, number> {
  private last!: ValueState<number>;
  constructor(private readonly perKey: number) {
    super();
  }
  override open(): void {
    this.last = this.getRuntimeContext().getState(new ValueStateDescriptor<number>('last-seq', -1));
  }
  processElement(step: SequenceStep, _ctx: KeyedProcessContext, out: Collector<number>): void {
    const last = this.last.value() ?? -1;
    const code = stepCode(step.key, step.seq, this.perKey);
    if (step.seq !== last + 1) {
      out.collect(-1 - code);
      if (step.seq <= last) return; // a repeat: keep the state where it was
    }
    this.last.update(step.seq);
    out.collect(code);
  }
}

/**
 * Params: `keys` (a multiple of the parallelism), `perKey`, `parallelism`, `rate` (records/s over
 * all subtasks, 0 for unlimited), `interval` (checkpoint ms), `restarts` (fixed-delay attempts),
 * `restartDelay` (ms), `files` (write the codes, one per line, with the exactly-once file sink
 * into this folder instead of collecting them: for whole-process kills).
 */
export default defineJob((env, params) => {
  const keys = Number(params.keys ?? 1000);
  const perKey = Number(params.perKey ?? 1000);
  const parallelism = Number(params.parallelism ?? 2);
  if (keys % parallelism !== 0) throw new RangeError(`keys (${keys}) must be a multiple of the parallelism (${parallelism})`);
  env.setParallelism(parallelism);
  env.enableCheckpointing(Number(params.interval ?? 500));
  env.setRestartStrategy(RestartStrategies.fixedDelay(Number(params.restarts ?? 1000), Number(params.restartDelay ?? 10)));
  const checked = env
    .fromSource(
      generatorSource<SequenceStep>({
        count: keys * perKey,
        generate: (i) => stepOf(i, keys, perKey, parallelism),
        recordsPerSecond: Number(params.rate ?? 0) || undefined,
        name: 'Sequences',
      }),
    )
    .keyBy((s) => s.key)
    .process(new SequenceChecker(perKey))
    .name('Checker');
  if (params.files !== undefined)
    checked.sinkTo(exactlyOnceFileSink<number>(String(params.files), { format: (code) => String(code), rollSizeBytes: 1 << 20 }));
  else checked.collect(CHAOS_OUT_ID, { exactlyOnce: true });
});
