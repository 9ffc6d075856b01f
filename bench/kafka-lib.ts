// What the Kafka benchmark's job and its plain kafkajs loop share: the record shapes and the transform.

/** A record of the input topic. */
export interface InputRecord {
  i: number;
  key: string;
  ts: number;
  amount: number;
}

/** A record of the output topic. */
export interface OutputRecord extends InputRecord {
  cents: number;
  big: boolean;
}

/** Input record `i`: 1,000 keys, 1 ms apart. */
export function inputRecord(i: number): InputRecord {
  return { i, key: `k${i % 1000}`, ts: 1_700_000_000_000 + i, amount: ((i * 7919) % 10_000) / 100 };
}

/** The per-record work of both sides (a map). */
export function transform(r: InputRecord): OutputRecord {
  const cents = Math.round(r.amount * 100);
  return { ...r, cents, big: cents >= 5000 };
}
