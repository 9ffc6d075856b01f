//! Kafka connectors (kafkajs): a partitioned, checkpointed source and an at-least-once or exactly-once (transactional) sink.

export {
  kafkaSource,
  DEAD_LETTER_HEADERS,
  type KafkaDeserializer,
  type KafkaRecordMeta,
  type KafkaSourceOptions,
  type KafkaSourceState,
} from './source.ts';
export { kafkaSink, type KafkaSerializer, type KafkaSinkOptions, type KafkaSinkTransaction } from './sink.ts';
