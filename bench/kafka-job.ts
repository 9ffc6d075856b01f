// Kafka → weir → Kafka job of bench/kafka.ts: read a topic to its current end, apply the benchmark's transform, write another topic at least or exactly once.
import { defineJob, kafkaSink, kafkaSource } from '../src/index.ts';
import { transform, type InputRecord, type OutputRecord } from './kafka-lib.ts';

export default defineJob((env, params) => {
  const brokers = [String(params.bootstrap)];
  const guarantee = params.guarantee === 'exactly-once' ? 'exactly-once' : 'at-least-once';
  env.enableCheckpointing(Number(params.checkpointMs ?? 1000), guarantee);
  env
    .fromSource(kafkaSource<InputRecord>({ brokers, topics: [String(params.input)], stopAtOffsets: 'latest' }))
    .map(transform)
    .sinkTo(
      kafkaSink<OutputRecord>({
        brokers,
        topic: String(params.output),
        guarantee,
        transactionalIdPrefix: `bench-${String(params.output)}`,
        key: (r) => r.key,
      }),
    );
});
