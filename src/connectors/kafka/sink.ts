//! The Kafka sink: at-least-once (plain producer) or exactly-once (one Kafka transaction per checkpoint, on the two-phase-commit base).

import type { Admin, Kafka, Message, Producer } from 'kafkajs';
import { kafkajs } from './kafkajs.ts';
import type { OperatorContext, Sink, SinkWriter } from '../../actors/operator.ts';
import { ErrorCodes, WeirError } from '../../core/errors.ts';
import { TwoPhaseCommitSinkWriter } from '../two-phase-commit.ts';
import { kafkaLogLevel } from './source.ts';

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
  /**
   * Exactly-once: prefix of the transactional ids, `${prefix}-${subtask}`, and of the consumer groups
   * the commit markers go to, `weir-sink-${prefix}-${subtask}`; unique per job and sink, and stable
   * across restarts and runs (a savepoint's pending transactions are settled through them).
   */
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

/** A record of an exactly-once transaction as it is kept in checkpoints: its serialized key and value. */
export interface KafkaSinkRecord {
  key: string | Uint8Array | null;
  value: string | Uint8Array | null;
}

/**
 * An exactly-once transaction, plain data: the records since the previous barrier and, once
 * pre-committed, the marker that its Kafka transaction commits to {@link markerGroup}.
 */
export interface KafkaSinkTransaction {
  /** Its sequence number in the writer that began it. */
  seq: number;
  /** The transactional id of the producer that writes it (`${prefix}-${subtask}`). */
  transactionalId: string;
  /** The consumer group the marker is committed to (`weir-sink-${transactionalId}`). */
  markerGroup: string;
  /** The marker: set at pre-commit, one more than the previous transaction's of this writer; null while open or empty. */
  marker: number | null;
  /** Its records; they stay in the checkpoint's state until the transaction is committed. */
  records: KafkaSinkRecord[];
}

/** What an exactly-once writer keeps beside its transactions: the last marker it handed out. */
interface KafkaSinkContext {
  lastMarker: number;
}

/** Whether an error is a producer fenced by a newer one of its transactional id (kafkajs wraps protocol errors in `cause`). */
function isFenced(error: unknown): boolean {
  let e = error as { type?: string; cause?: unknown; originalError?: unknown } | undefined;
  for (let depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (e.type === 'PRODUCER_FENCED' || e.type === 'INVALID_PRODUCER_EPOCH') return true;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return false;
}

/** A record from checkpoint state as kafkajs takes it (msgpack gives byte arrays back as Uint8Array). */
function toMessage(r: KafkaSinkRecord): Message {
  const bytes = (v: string | Uint8Array | null) =>
    v === null || typeof v === 'string' || Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return { key: bytes(r.key), value: bytes(r.value) };
}

/**
 * Exactly-once: a transactional producer per subtask with the stable id `${prefix}-${subtask}`.
 * Records since the last barrier are buffered; the barrier closes them as the checkpoint's
 * transaction, and its records stay in the checkpoint's state until it is committed; when the
 * checkpoint completes they are sent in one Kafka transaction and committed. A kafkajs producer
 * runs one transaction at a time, so the transactions of successive checkpoints run one after the
 * other.
 *
 * **Markers: whether a transaction committed.** kafkajs cannot resume and commit another
 * producer's transaction (Flink's KafkaSink sets the producer id and epoch it stored in the
 * checkpoint; kafkajs has no such API). So every transaction also commits, through `sendOffsets`
 * inside the same Kafka transaction, a *marker*: the offset of partition 0 of the output topic for
 * a consumer group of the subtask's own, `weir-sink-${prefix}-${subtask}` (no consumer ever joins
 * it). Markers grow by one per non-empty transaction, across restarts and runs (a fresh start
 * continues after the group's current marker), so the group's marker is at least `m` exactly when
 * the transaction of marker `m` committed: both are written by the one Kafka transaction, and a
 * subtask commits its transactions in order.
 *
 * **Restore.** Opening first fences the previous producer of the transactional id (InitProducerId:
 * the broker aborts its open transaction, or finishes one whose commit it had received). Then, for
 * each transaction the restored checkpoint lists as pending, the marker group is read: a marker at
 * or past the transaction's means it committed; otherwise its records (from the checkpoint) are
 * written again and committed with the marker, in a new transaction. So a worker dying between a
 * checkpoint's completion and its commit, or during the commit, neither loses nor duplicates
 * records. Pending transactions of another subtask (a restore at lower parallelism) are settled
 * the same way, fencing that subtask's transactional id first.
 *
 * **Retried commits.** A commit that fails (the broker went away) is retried with a new producer
 * of the same transactional id until {@link KafkaSinkOptions.commitRetryMs}: its InitProducerId
 * settles the old transaction, and the marker tells whether it committed; if not, the records are
 * sent again in a new transaction. So a broker stopped or restarted mid-run neither loses nor
 * duplicates records.
 *
 * **Limits.** A marker group's offsets expire as Kafka expires those of any group without members
 * (`offsets.retention.minutes`, 7 days by default, after its last commit): a job must not restore a
 * checkpoint whose transaction committed more than that long ago. The records of each pre-committed
 * transaction are part of the checkpoint until it commits, which makes checkpoints as large as the
 * output of one checkpoint interval.
 */
class ExactlyOnceWriter<T> extends TwoPhaseCommitSinkWriter<T, KafkaSinkTransaction, KafkaSinkContext> {
  private producer: Producer | undefined;
  private admin: Admin | undefined;
  private seq = 0;
  /** The last marker handed out (at pre-commit); -1 before the first. */
  private lastMarker = -1;
  private readonly serialize: (value: T) => string | Buffer | null;
  private readonly transactionalId: string;
  private readonly markerGroup: string;

  constructor(
    private readonly options: KafkaSinkOptions<T>,
    private readonly context: OperatorContext,
    private readonly kafka: Kafka,
  ) {
    super({ operator: context.operatorName, subtask: context.subtaskIndex });
    this.serialize = serializerOf(options.serializer);
    this.transactionalId = `${options.transactionalIdPrefix}-${context.subtaskIndex}`;
    this.markerGroup = markerGroupOf(this.transactionalId);
  }

  /** Connects the producer once; its first transaction() fences the previous producer of the id (see {@link fence}). */
  private async ensureProducer(): Promise<void> {
    if (this.producer !== undefined) return;
    const producer = this.newProducer(this.transactionalId);
    try {
      await fence(producer);
    } catch (error) {
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
    this.producer = producer;
  }

  protected override async initializeContext(restored: readonly KafkaSinkContext[] | undefined): Promise<void> {
    await this.ensureProducer();
    const committed = await this.readMarker(this.markerGroup);
    let last = Math.max(this.lastMarker, committed);
    for (const c of restored ?? []) if (typeof c?.lastMarker === 'number') last = Math.max(last, c.lastMarker);
    this.lastMarker = last;
  }

  protected override snapshotContext(): KafkaSinkContext {
    return { lastMarker: this.lastMarker };
  }

  private newProducer(transactionalId: string): Producer {
    return this.kafka.producer({
      transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: this.options.transactionTimeoutMs ?? 60_000,
      allowAutoTopicCreation: false,
    });
  }

  protected beginTransaction(): KafkaSinkTransaction {
    return { seq: ++this.seq, transactionalId: this.transactionalId, markerGroup: this.markerGroup, marker: null, records: [] };
  }

  protected invoke(txn: KafkaSinkTransaction, value: T): void {
    txn.records.push({ key: this.options.key?.(value) ?? null, value: this.serialize(value) });
  }

  /** Hands the transaction its marker; an empty one needs none (nothing to lose or repeat). */
  protected preCommit(txn: KafkaSinkTransaction): void {
    if (txn.records.length > 0) txn.marker = ++this.lastMarker;
  }

  protected async commit(txn: KafkaSinkTransaction): Promise<void> {
    if (txn.marker === null || txn.records.length === 0) return;
    await this.commitWithRetries(txn);
    // Committed: a later commit of the same object (close, or a repeated completion) has nothing to do.
    txn.records = [];
  }

  /**
   * Sends the records and the marker in one transaction and commits it. After a failure it drops
   * the producer and tries again with a new one of the same transactional id, whose InitProducerId
   * settles the failed transaction (aborts it, or completes a commit the broker had received); the
   * marker, read before anything is sent again, says whether that commit happened.
   */
  private async commitWithRetries(txn: KafkaSinkTransaction): Promise<void> {
    const deadline = Date.now() + (this.options.commitRetryMs ?? 120_000);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.ensureProducer();
        if (attempt > 0 && (await this.readMarker(txn.markerGroup)) >= (txn.marker as number)) return;
        const t = await (this.producer as Producer).transaction();
        let committing = false;
        try {
          const size = this.options.batchSize ?? 500;
          for (let i = 0; i < txn.records.length; i += size)
            await t.send({ topic: this.options.topic, messages: txn.records.slice(i, i + size).map(toMessage) });
          await t.sendOffsets({
            consumerGroupId: txn.markerGroup,
            topics: [{ topic: this.options.topic, partitions: [{ partition: 0, offset: String(txn.marker) }] }],
          });
          committing = true;
          await t.commit();
          return;
        } catch (error) {
          if (!committing) await t.abort().catch(() => undefined);
          throw error;
        }
      } catch (error) {
        // Fenced: a newer producer of this transactional id exists; taking the id back would fence it in turn.
        if (Date.now() >= deadline || isFenced(error)) throw error;
        await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
        await this.dropProducer();
      }
    }
  }

  private async dropProducer(): Promise<void> {
    const old = this.producer;
    this.producer = undefined;
    await old?.disconnect().catch(() => undefined);
  }

  /**
   * The marker committed to `group` (-1 for none), read after the transactions that could move it
   * were settled. kafkajs' admin does not retry a coordinator that is still loading or has moved
   * (a fresh or restarted broker), so this retries with a new admin client for up to 30 s.
   */
  private async readMarker(group: string): Promise<number> {
    const deadline = Date.now() + 30_000;
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.admin === undefined) {
          const admin = this.kafka.admin();
          this.admin = admin;
          await admin.connect();
        }
        const [topic] = await this.admin.fetchOffsets({ groupId: group, topics: [this.options.topic] });
        return Number(topic?.partitions.find((p) => p.partition === 0)?.offset ?? '-1');
      } catch (error) {
        const admin = this.admin;
        this.admin = undefined;
        await admin?.disconnect().catch(() => undefined);
        if (Date.now() >= deadline) throw error;
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
      }
    }
  }

  protected abort(txn: KafkaSinkTransaction): void {
    txn.records = [];
  }

  /**
   * A pending transaction of the restored checkpoint: committed if its marker group has its marker,
   * else written and committed again (after fencing the producer that may still hold it open).
   */
  protected override async recoverAndCommit(txn: KafkaSinkTransaction): Promise<void> {
    // A transaction of a checkpoint written before markers existed: kafkajs cannot settle it (records were not kept).
    if (!Array.isArray(txn.records) || typeof txn.markerGroup !== 'string' || txn.marker === null) return;
    if (txn.transactionalId === this.transactionalId) await this.ensureProducer();
    else {
      const other = this.newProducer(txn.transactionalId);
      try {
        await fence(other);
      } finally {
        await other.disconnect().catch(() => undefined);
      }
    }
    const committed = await this.readMarker(txn.markerGroup);
    if (committed >= txn.marker) return;
    if (txn.markerGroup === this.markerGroup) this.lastMarker = Math.max(this.lastMarker, txn.marker);
    await this.commit(txn);
  }

  /** Nothing to do: fencing the old producer aborts its open transaction, and the open transaction's records are replayed. */
  protected override recoverAndAbort(): void {}

  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      await this.producer?.disconnect().catch(() => undefined);
      await this.admin?.disconnect().catch(() => undefined);
    }
  }
}

/** The consumer group an exactly-once writer commits its markers to. */
export function markerGroupOf(transactionalId: string): string {
  return `weir-sink-${transactionalId}`;
}

/**
 * Connects a transactional producer and fences the previous producer of its id: kafkajs runs
 * InitProducerId at the first `transaction()`, not at `connect()`, so an empty transaction is begun
 * and dropped (it ends without a request). The broker then aborts the old producer's open
 * transaction, or completes one it had been asked to commit, before it answers.
 */
async function fence(producer: Producer): Promise<void> {
  await producer.connect();
  await (await producer.transaction()).abort();
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
      const kafka = new (kafkajs().Kafka)({
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
