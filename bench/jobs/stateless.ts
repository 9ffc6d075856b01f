//! Benchmark job (a): generator → map → filter → count sink, all chained (params: records).

import { defineJob, generatorSource } from '../../src/index.ts';
import { countSink } from './count-sink.ts';
import { generateReading, keepScored, scoreReading, scoredChecksum } from './workloads.ts';

export default defineJob((env, params) => {
  const records = Number(params.records ?? 1_000_000);
  env
    .fromSource(generatorSource({ count: records, generate: generateReading, name: 'Readings' }))
    .map(scoreReading)
    .name('Score')
    .filter(keepScored)
    .name('Keep')
    .sinkTo(countSink(scoredChecksum));
});
