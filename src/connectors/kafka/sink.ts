//! The Kafka sink: at-least-once (plain producer) or exactly-once (one Kafka transaction per checkpoint, on the two-phase-commit base).

import { Kafka, type Message, type Producer, type RecordMetadata } from 'kafkajs';
import type { OperatorContext, Sink, SinkWriter } from '../../actors/operator.ts';
import { ErrorCodes, WeirError } from '../../core/errors.ts';
import { TwoPhaseCommitSinkWriter } from '../two-phase-commit.ts';
import { kafkaLogLevel, staticAssigner } from './source.ts';

/** How a stream record becomes a Kafka record value. */
export type KafkaSerializer<T> = 'json' | 'string' | ((value: T) => string | Buffer | null);

/** Options of {@link kafkaSink}. */
export interface KafkaSinkOptions<T> {
  /** Bootstrap servers. */
  brokers: string[];
  /** The topic written to. */
  topic: string;
  /** Record → value (default `json`). */
  serializer?: KafkaSerializer<T>;
  /** Record → key (partitioning); none by default (kafkajs' default partitioner spreads records). */
  key?: (value: T) => string | Buffer | null;
  /** Delivery guarantee (default `at-least-once`). */
  guarantee?: 'at-least-once' | 'exactly-once';
  /** Exactly-once: prefix of the transactional ids, `${prefix}-${subtask}`; must be unique per job and stable across restarts. */
  transactionalIdPrefix?: string;
  /** Records per produce request (default 500). */
  batchSize?: number;
  /** Exactly-once: transaction timeout (ms) asked of the broker (default 60 000; must be ≤ the broker's transaction.max.timeout.ms). */
  transactionTimeoutMs?: number;
  /** Exactly-once: how long a commit keeps retrying (new producer, same transactional id) while the cluster is unreachable (default 120 000 ms). */
  commitRetryMs?: number;
  /** Client id (default `weir-kafka-sink`). */
  clientId?: string;
  /** Operator name (default `Kafka Sink`). */
  name?: string;
}

function serializerOf<T>(s: KafkaSerializer<T> | undefined): (value: T) => string | Buffer | null {
  if (typeof s === 'function') return s;
  if (s === 'string') return (v) => (v === null || v === undefined ? null : String(v));
  return (v) => JSON.stringify(v) ?? null;
}

function sinkError(context: OperatorContext, message: string, cause: unknown): WeirError {
  return new WeirError(
    `Kafka sink '${context.operatorName}' (subtask ${context.subtaskIndex}): ${message}: ${cause instanceof Error ? cause.message : String(cause)}`,
    { code: ErrorCodes.SINK_IO, domain: 'external', retriable: true, operator: context.operatorName, subtask: context.subtaskIndex, cause },
  );
}

/**
 * At-least-once: records are sent in batches as they arrive (asynchronously). Limit: a barrier
 * cannot await the sends in flight ({@link SinkWriter.snapshotState} is synchronous), so a
 * checkpoint may complete while some records written before its barrier are not yet acknowledged
 * by Kafka; a crash then loses them. Send failures fail the job at the next record or at close.
 */
class AtLeastOnceWriter<T> implements SinkWriter<T> {
  private producer: Producer | undefined;
  private batch: Message[] = [];
  private inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private readonly serialize: (value: T) => string | Buffer | null;

  constructor(
    private readonly options: KafkaSinkOptions<T>,
    private readonly context: OperatorContext,
    private readonly kafka: Kafka,
  ) {
    this.serialize = serializerOf(options.serializer);
  }

  async open(): Promise<void> {
    this.producer = this.kafka.producer({ allowAutoTopicCreation: false });
    await this.producer.connect();
  }

  write(value: T): void {
    if (this.failure !== undefined) throw sinkError(this.context, 'sending failed', this.failure);
    this.batch.push({ key: this.options.key?.(value) ?? null, value: this.serialize(value) });
    if (this.batch.length >= (this.options.batchSize ?? 500)) this.flush();
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const messages = this.batch;
    this.batch = [];
    const p = (this.producer as Producer)
      .send({ topic: this.options.topic, messages })
      .then(
        () => undefined,
        (error: unknown) => {
          this.failure ??= error;
        },
      )
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Starts sending what is buffered; cannot wait for it (see the class comment). */
  snapshotState(): null {
    this.flush();
    return null;
  }

  async close(): Promise<void> {
    this.flush();
    await Promise.all(this.inFlight);
    await this.producer?.disconnect().catch(() => undefined);
    if (this.failure !== undefined) throw sinkError(this.context, 'sending failed', this.failure);
  }
}

/** An exactly-once transaction: its sequence number in this writer (the records stay in memory, see {@link ExactlyOnceWriter}). */
export interface KafkaSinkTransaction {
  seq: number;
  transactionalId: string;
}

/**
 * Exactly-once: a transactional producer per subtask with the stable id `${prefix}-${subtask}`.
 * Records since the last barrier are buffered; the barrier closes them as the checkpoint's
 * transaction; when the checkpoint completes they are sent in one Kafka transaction and committed.
 * A kafkajs producer runs one transaction at a time, so the transactions of successive checkpoints
 * run one after the other. On open (fresh start or restore) the producer's initTransactions
 * (InitProducerId with the same transactional id) fences the previous incarnation and aborts its
 * open transaction. (kafkajs runs that InitProducerId at the producer's first `transaction()`, not at
 * `connect()`, so {@link initializeContext} begins and drops an empty transaction.)
 *
 * **Retried commits.** A commit that fails (the broker went away) is retried with a new producer
 * of the same transactional id until {@link KafkaSinkOptions.commitRetryMs}: its InitProducerId
 * settles the old transaction (aborts it if it was still open, finishes it if the broker had
 * received the commit). Whether the commit request reached the broker is then read back: one record
 * of the transaction is fetched with `read_committed`; visible means committed, otherwise the
 * records are sent again in a new transaction. So a broker stopped or restarted mid-run neither
 * loses nor duplicates records.
 *
 * **Limit (kafkajs).** kafkajs cannot resume and commit another producer's transaction (Flink's
 * KafkaSink does it by setting the producer id and epoch it stored in the checkpoint; kafkajs has
 * no such API), so a transaction the checkpoint lists as pending cannot be committed after a crash.
 * Records of checkpoint N are therefore lost when the job crashes after checkpoint N completed and
 * before this subtask committed N's transaction, and the job restores from N (the source resumes
 * after those records). When the crash happens before N completes, the restore goes back to N-1
 * and the records are replayed: no loss. Kills after the commit lose nothing.
 */
class ExactlyOnceWriter<T> extends TwoPhaseCommitSinkWriter<T, KafkaSinkTransaction> {
  private producer: Producer | undefined;
  private seq = 0;
  private readonly buffers = new Map<number, Message[]>();
  private readonly serialize: (value: T) => string | Buffer | null;
  private readonly transactionalId: string;

  constructor(
    private readonly options: KafkaSinkOptions<T>,
    private readonly context: OperatorContext,
    private readonly kafka: Kafka,
  ) {
    super({ operator: context.operatorName, subtask: context.subtaskIndex });
    this.serialize = serializerOf(options.serializer);
    this.transactionalId = `${options.transactionalIdPrefix}-${context.subtaskIndex}`;
  }

  protected override async initializeContext(): Promise<void> {
    this.producer = this.newProducer();
    await this.producer.connect();
    // The first transaction() runs InitProducerId for the transactional id: the broker fences the
    // old producer and aborts its open transaction, which would otherwise hold back read_committed
    // readers until it times out. An empty transaction ends without a request.
    await (await this.producer.transaction()).abort();
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      transactionalId: this.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: this.options.transactionTimeoutMs ?? 60_000,
      allowAutoTopicCreation: false,
    });
  }

  protected beginTransaction(): KafkaSinkTransaction {
    const seq = ++this.seq;
    this.buffers.set(seq, []);
    return { seq, transactionalId: this.transactionalId };
  }

  protected invoke(txn: KafkaSinkTransaction, value: T): void {
    (this.buffers.get(txn.seq) as Message[]).push({ key: this.options.key?.(value) ?? null, value: this.serialize(value) });
  }

  protected preCommit(): void {}

  protected async commit(txn: KafkaSinkTransaction): Promise<void> {
    const messages = this.buffers.get(txn.seq);
    if (messages === undefined) return; // committed already
    if (messages.length > 0) await this.commitWithRetries(messages);
    this.buffers.delete(txn.seq);
  }

  /** Sends `messages` in one transaction and commits it; after a failure, settles the transaction with a new producer and goes on (see the class comment). */
  private async commitWithRetries(messages: Message[]): Promise<void> {
    const deadline = Date.now() + (this.options.commitRetryMs ?? 120_000);
    for (let attempt = 0; ; attempt++) {
      let sent: RecordMetadata | undefined;
      let committing = false;
      try {
        const t = await (this.producer as Producer).transaction();
        try {
          const size = this.options.batchSize ?? 500;
          for (let i = 0; i < messages.length; i += size) {
            const meta = await t.send({ topic: this.options.topic, messages: messages.slice(i, i + size) });
            sent ??= meta.find((m) => m.errorCode === 0);
          }
          committing = true;
          await t.commit();
          return;
        } catch (error) {
          if (!committing) await t.abort().catch(() => undefined);
          throw error;
        }
      } catch (error) {
        // Fenced: a newer producer of this transactional id exists; taking the id back would fence it in turn.
        const e = error as { type?: string; originalError?: { type?: string } };
        const type = e.type ?? e.originalError?.type;
        if (Date.now() >= deadline || type === 'PRODUCER_FENCED' || type === 'INVALID_PRODUCER_EPOCH') throw error;
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
        const settled = await this.replaceProducer().then(
          () => true,
          () => false,
        );
        if (!settled) continue;
        // The old transaction is settled now: if the commit request reached the broker, its records are visible.
        if (committing && sent !== undefined && (await this.isVisible(sent).catch(() => false))) return;
      }
    }
  }

  /** Drops the current producer and connects a new one with the same transactional id (fencing the old one, settling its transaction). */
  private async replaceProducer(): Promise<void> {
    const old = this.producer;
    this.producer = undefined;
    await old?.disconnect().catch(() => undefined);
    const producer = this.newProducer();
    try {
      await producer.connect();
      await (await producer.transaction()).abort();
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      this.producer = this.newProducer(); // the next attempt starts from a fresh one
      throw error;
    }
    this.producer = producer;
  }

  /** Whether the record at `meta`'s base offset is visible to a read_committed reader (its transaction is settled). */
  private async isVisible(meta: RecordMetadata): Promise<boolean> {
    const topic = meta.topicName;
    const partition = meta.partition;
    const offset = BigInt(meta.baseOffset as string);
    const consumer = this.kafka.consumer({
      groupId: `weir-txn-check-${this.transactionalId}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
      partitionAssigners: [staticAssigner({ [topic]: [partition] })],
      readUncommitted: false,
      allowAutoTopicCreation: false,
    });
    try {
      return await new Promise<boolean>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer reading ${topic}-${partition} at ${offset}`)), 30_000);
        const decide = (visible: boolean) => {
          clearTimeout(timer);
          resolve(visible);
        };
        consumer.on(consumer.events.GROUP_JOIN, () => consumer.seek({ topic, partition, offset: offset.toString() }));
        // A read_committed fetch skips aborted records: a batch that ends at or past the offset without it means aborted.
        consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
          const last = (e.payload as { lastOffset?: string | null }).lastOffset;
          if (e.payload.partition === partition && last !== null && last !== undefined && BigInt(last) >= offset) decide(false);
        });
        void (async () => {
          await consumer.connect();
          await consumer.subscribe({ topics: [topic] });
          await consumer.run({
            autoCommit: false,
            eachMessage: async ({ partition: p, message }) => {
              if (p !== partition) return;
              const o = BigInt(message.offset);
              if (o === offset) decide(true);
              else if (o > offset) decide(false);
            },
          });
        })().catch(reject);
      });
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  }

  protected abort(txn: KafkaSinkTransaction): void {
    this.buffers.delete(txn.seq);
  }

  /** A restored pending transaction belongs to a dead producer: kafkajs cannot commit it (see the class comment). */
  protected override recoverAndCommit(): void {}

  /** Nothing to do: connecting the new producer aborts the old one's open transaction. */
  protected override recoverAndAbort(): void {}

  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      await this.producer?.disconnect().catch(() => undefined);
    }
  }
}

/**
 * Writes to a Kafka topic (Flink's KafkaSink), at least once or exactly once (see the writers'
 * comments for what each guarantees and where kafkajs limits it). Read an exactly-once topic with
 * isolation `read_committed` (kafkajs: `readUncommitted: false`, its default).
 */
export function kafkaSink<T = unknown>(options: KafkaSinkOptions<T>): Sink<T> {
  const guarantee = options.guarantee ?? 'at-least-once';
  if (guarantee === 'exactly-once' && !options.transactionalIdPrefix)
    throw new WeirError("kafkaSink with guarantee 'exactly-once' needs a transactionalIdPrefix", {
      code: ErrorCodes.CONFIG,
      domain: 'user',
    });
  return {
    name: options.name ?? 'Kafka Sink',
    commitsOnCheckpoint: guarantee === 'exactly-once',
    createWriter: (context: OperatorContext) => {
      const kafka = new Kafka({
        clientId: options.clientId ?? 'weir-kafka-sink',
        brokers: options.brokers,
        logLevel: kafkaLogLevel(),
        retry: { retries: 8 },
      });
      return guarantee === 'exactly-once'
        ? new ExactlyOnceWriter<T>(options, context, kafka)
        : new AtLeastOnceWriter<T>(options, context, kafka);
    },
  };
}
