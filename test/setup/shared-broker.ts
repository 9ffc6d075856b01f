// One Kafka broker for the whole test run: the files that only need a broker (not to stop or restart it) share it. The first
// file that asks starts it (detached from that file's process); the global setup's teardown stops it and removes its data.
import { startBroker, type BrokerHandle } from '../../scripts/kafka/broker.mjs';

/** The run's shared broker, started by the first caller of the run and reused by the others. */
export async function sharedBroker(): Promise<BrokerHandle> {
  const dataDir = process.env.WEIR_SUITE_KAFKA_DIR;
  if (!dataDir) throw new Error('WEIR_SUITE_KAFKA_DIR is not set: run the tests through vitest (test/setup/suite-temp-dir.ts sets it)');
  return startBroker({ dataDir, detached: true });
}
