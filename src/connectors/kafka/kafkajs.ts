//! kafkajs, loaded on first use: a job that uses no Kafka connector never loads it (every worker thread would, at start).

import { createRequire } from 'node:module';
import type * as KafkaJs from 'kafkajs';

let loaded: typeof KafkaJs | undefined;

/** The kafkajs module (loaded by the first call). */
export function kafkajs(): typeof KafkaJs {
  return (loaded ??= createRequire(import.meta.url)('kafkajs') as typeof KafkaJs);
}
