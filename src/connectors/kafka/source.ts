//! The Kafka source: topic partitions as splits, dealt to subtasks by `partition % parallelism`, offsets in checkpoints.

import type { Admin, Consumer, IHeaders, Kafka, KafkaMessage, logLevel, PartitionAssigner, Producer } from 'kafkajs';
import type { ReaderOutput, Source, SourceReader, SourceReaderContext, SourceStatus } from '../../actors/operator.ts';
import { ErrorCodes, WeirError } from '../../core/errors.ts';
import { kafkajs } from './kafkajs.ts';
import { SkippedRecordsLog, resolveSkippedRecordsLog, type SkippedRecordsLogOptions } from '../skipped-records-log.ts';

/** How a Kafka record's value becomes a stream record. */
export type KafkaDeserializer<T> = 'json' | 'string' | 'bytes' | ((value: Buffer | null, message: KafkaRecordMeta) => T);

/** Where a record came from (handed to a function deserializer). */
export interface KafkaRecordMeta {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  timestamp: string;
}

/** Options of {@link kafkaSource}. */
export interface KafkaSourceOptions<T> {
  /** Bootstrap servers, e.g. `['127.0.0.1:9092']`. */
  brokers: string[];
  /** Topics to read; all their partitions are splits. */
  topics?: string[];
  /** Or every topic whose name matches (internal `__` topics excepted), listed when the job starts (new topics are not picked up while it runs). */
  topicPattern?: RegExp | string;
  /**
   * The consumer group offsets are committed to when a checkpoint completes (for information and
   * for `startFrom: 'committed'`; the source's own position is in its checkpoints), default
   * `weir-<operator name>`. The readers fetch as members of groups of their own, named after it.
   */
  groupId?: string;
  /**
   * Commit offsets to {@link groupId} when a checkpoint completes (default false), each subtask its
   * own partitions, in a small transaction of its own (no group membership needed); the end of a
   * job waits up to 20 s for the last commit when the broker is away.
   */
  commitOffsetsOnCheckpoint?: boolean;
  /**
   * Where a partition without restored offset starts (default `earliest`): its first or its end
   * offset, the offsets committed to {@link groupId} (`earliest` for a partition without one), or
   * the first record with a timestamp at or after `timestamp` (the end when there is none).
   */
  startFrom?: 'earliest' | 'latest' | 'committed' | { timestamp: number };
  /** Record value → stream record (default `json`). */
  deserializer?: KafkaDeserializer<T>;
  /**
   * A record the deserializer rejects: fail the job naming topic, partition and offset (default),
   * skip it (counted as `kafka.records_skipped` and logged, see {@link logSkipped}), or write it raw
   * to {@link deadLetterTopic} (counted as `kafka.records_dead_lettered`; at least once, see
   * {@link kafkaSource}).
   */
  onError?: 'fail' | 'skip' | 'dead-letter';
  /** With `onError: 'skip'`: how many skipped records each reader logs on stderr, and how often it then logs their count. */
  logSkipped?: SkippedRecordsLogOptions;
  /** With `onError: 'dead-letter'`: the topic rejected records go to, on the same cluster. */
  deadLetterTopic?: string;
  /** Bounded mode: read up to the partitions' end offsets at start, then end. */
  stopAtOffsets?: 'latest';
  /** Records buffered per partition before its fetching pauses (default 2000; a fetched batch is buffered whole, so up to one fetch more). */
  maxBufferedPerPartition?: number;
  /**
   * Longest wait of a fetch (ms, default 200). kafkajs also sleeps this long when all of a
   * reader's partitions are paused, so a long wait (its default is 5 s) makes backpressure slow.
   */
  fetchMaxWaitMs?: number;
  /** Consumer session timeout (ms, default 10 000): how long a rejoin after a broker restart may wait for the lost member. */
  sessionTimeoutMs?: number;
  /** Client id (default `weir-kafka-source`). */
  clientId?: string;
  /** Operator name (default `Kafka Source`). */
  name?: string;
}

/** `p`, or a rejection after `ms` (a broker that is away must not hold a commit forever). */
function withTimeout<T>(p: Promise<T>, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** A split id: `topic-partition`. */
const splitId = (topic: string, partition: number) => `${topic}-${partition}`;

/** One assigned partition of a reader. */
interface PartitionSplit {
  topic: string;
  partition: number;
  id: string;
  /** The next offset to emit (the checkpointed position). */
  next: bigint;
  /** Bounded mode: the offset to stop at (exclusive). */
  end: bigint | undefined;
  buffer: KafkaMessage[];
  paused: boolean;
  finished: boolean;
  /** Every offset below this was delivered or is a control / aborted record (transaction markers hold offsets). */
  skipTo: bigint;
  /** The head of the buffer is being written to the dead-letter topic: the partition waits for the write. */
  blocked: boolean;
}

/** Headers a dead-lettered record carries besides its own: where it came from and why it was rejected. */
export const DEAD_LETTER_HEADERS = {
  topic: 'weir.dlq.topic',
  partition: 'weir.dlq.partition',
  offset: 'weir.dlq.offset',
  timestamp: 'weir.dlq.timestamp',
  error: 'weir.dlq.error',
} as const;

/** The reader state: next offset by `topic-partition`, as decimal strings, and the reader's counts of rejected records. */
export interface KafkaSourceState {
  /** Next offset by `topic-partition`. */
  offsets: Record<string, string>;
  /** Records `onError: 'skip'` dropped so far (the job's total is the sum over readers). */
  skipped: number;
  /** Records `onError: 'dead-letter'` wrote to the dead-letter topic so far. */
  deadLettered: number;
}

/** The offsets of a restored reader state; states of older versions were the offsets alone. */
function offsetsOf(state: unknown): Record<string, string> {
  if (state === null || typeof state !== 'object') return {};
  const s = state as Partial<KafkaSourceState>;
  return typeof s.offsets === 'object' && s.offsets !== null ? s.offsets : (state as Record<string, string>);
}

function deserialize<T>(d: KafkaDeserializer<T>, m: KafkaMessage, topic: string, partition: number): T {
  const v = m.value;
  if (typeof d === 'function') return d(v, { topic, partition, offset: m.offset, key: m.key ?? null, timestamp: m.timestamp });
  if (d === 'bytes') return (v === null ? null : new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice()) as T;
  if (d === 'string') return (v === null ? null : v.toString('utf8')) as T;
  if (v === null) return null as T;
  return JSON.parse(v.toString('utf8')) as T;
}

/** A fetched record with what kafkajs knows of its record batch (`batchContext`) and whether it is a transaction marker. */
type RawFetchedMessage = KafkaMessage & {
  isControlRecord?: boolean;
  batchContext?: { producerId: string; inTransaction: boolean };
};

/** The key of an abort marker (control record version 0, type 0); a commit marker has type 1. */
const ABORT_MARKER_KEY = Buffer.from([0, 0, 0, 0]);

/**
 * The records of a fetched batch that a `read_committed` reader may see. kafkajs filters aborted
 * records with the broker's list of aborted transactions but assumes that list is in the order the
 * transactions began (the broker orders it by where they ended), and moves through it one entry per
 * record: when aborted transactions of two producers interleave, records of an aborted one come
 * through (and records of a later committed one can be dropped). This decides each transactional
 * record by the marker that ends its transaction — the next control record of its producer in the
 * batch — and keeps kafkajs' verdict only for a record whose marker is not in the batch.
 */
export function committedMessages(batch: { messages: KafkaMessage[] }): KafkaMessage[] {
  const raw = (batch as { messagesWithinOffset?: RawFetchedMessage[] }).messagesWithinOffset;
  if (!Array.isArray(raw)) return batch.messages;
  const kafkajsKept = new Set<KafkaMessage>(batch.messages);
  const ending = new Map<string, boolean>(); // producer → whether its next marker (after the record looked at) aborts
  const kept: KafkaMessage[] = [];
  for (let i = raw.length - 1; i >= 0; i--) {
    const m = raw[i];
    const context = m.batchContext;
    if (m.isControlRecord) {
      if (context !== undefined) ending.set(context.producerId, m.key !== null && m.key !== undefined && Buffer.from(m.key).equals(ABORT_MARKER_KEY));
      continue;
    }
    const aborted = context?.inTransaction ? ending.get(context.producerId) : false;
    if (aborted === false || (aborted === undefined && kafkajsKept.has(m))) kept.push(m);
  }
  return kept.reverse();
}

/** A silent kafkajs logger, except errors. */
export function kafkaLogLevel(): logLevel {
  const level = process.env.WEIR_KAFKA_LOG;
  const levels = kafkajs().logLevel;
  return level === 'debug' ? levels.DEBUG : level === 'info' ? levels.INFO : level === 'warn' ? levels.WARN : levels.NOTHING;
}

/** A kafkajs partition assigner that gives the group's first member exactly `assignment` (kafkajs has no `consumer.assign()`). */
export function staticAssigner(assignment: Record<string, number[]>): PartitionAssigner {
  return () => ({
    name: 'WeirStaticAssigner',
    version: 1,
    async assign({ members }: { members: { memberId: string }[] }) {
      return members.map((m, i) => ({
        memberId: m.memberId,
        memberAssignment: kafkajs().AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: i === 0 ? assignment : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics: t }: { topics: string[] }) {
      return {
        name: 'WeirStaticAssigner',
        metadata: kafkajs().AssignerProtocol.MemberMetadata.encode({ version: 1, topics: t, userData: Buffer.alloc(0) }),
      };
    },
  });
}

class KafkaSourceReader<T> implements SourceReader<T> {
  private readonly kafka: Kafka;
  private admin: Admin | undefined;
  private consumer: Consumer | undefined;
  private readonly splits = new Map<string, PartitionSplit>();
  private waiter: { promise: Promise<void>; resolve: () => void } | undefined;
  private failure: unknown;
  /** Records the deserializer rejected and `onError: 'skip'` dropped. */
  skipped = 0;
  /** Records the deserializer rejected and `onError: 'dead-letter'` wrote to the dead-letter topic (acknowledged). */
  deadLettered = 0;
  private deadLetterProducer: Producer | undefined;
  private readonly maxBuffered: number;
  private readonly skipLog: SkippedRecordsLog | undefined;

  constructor(
    private readonly options: KafkaSourceOptions<T>,
    private readonly context: SourceReaderContext,
  ) {
    this.kafka = new (kafkajs().Kafka)({
      clientId: options.clientId ?? 'weir-kafka-source',
      brokers: options.brokers,
      logLevel: kafkaLogLevel(),
      retry: { retries: 8 },
    });
    this.maxBuffered = options.maxBufferedPerPartition ?? 2000;
    if (options.onError === 'skip')
      this.skipLog = new SkippedRecordsLog(
        `Kafka source '${context.operatorName}' (subtask ${context.subtaskIndex})`,
        resolveSkippedRecordsLog('kafkaSource', options.logSkipped),
      );
    // The counts go on in subtask 0, so the sum over subtasks stays the job's.
    if (context.subtaskIndex === 0)
      for (const state of context.restoredStates ?? []) {
        const s = (state ?? {}) as Partial<KafkaSourceState>;
        if (typeof s.skipped === 'number') this.skipped += s.skipped;
        if (typeof s.deadLettered === 'number') this.deadLettered += s.deadLettered;
      }
  }

  async open(): Promise<void> {
    const { subtaskIndex: index, parallelism } = this.context;
    const admin = (this.admin = this.kafka.admin());
    await admin.connect();
    if (this.options.onError === 'dead-letter') {
      // Idempotent: kafkajs' own retries of a send do not duplicate the dead letter.
      this.deadLetterProducer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await this.deadLetterProducer.connect();
    }
    const meta = await admin.fetchTopicMetadata({ topics: await this.topicNames(admin) });
    const startFrom = this.options.startFrom ?? 'earliest';
    const restored = new Map<string, bigint>();
    for (const state of this.context.restoredStates ?? [])
      for (const [id, off] of Object.entries(offsetsOf(state))) restored.set(id, BigInt(off));
    for (const topic of meta.topics) {
      const mine = topic.partitions.map((p) => p.partitionId).filter((p) => p % parallelism === index);
      if (mine.length === 0) continue;
      const offsets = await admin.fetchTopicOffsets(topic.name);
      for (const p of mine.sort((a, b) => a - b)) {
        const o = offsets.find((x) => x.partition === p);
        const low = BigInt(o?.low ?? '0');
        const high = BigInt(o?.high ?? '0');
        const id = splitId(topic.name, p);
        let end = this.options.stopAtOffsets === 'latest' ? high : undefined;
        let start = restored.get(id);
        if (start === undefined && this.context.restoredStates !== undefined && end !== undefined) {
          // Bounded and restored: a partition no restored state names belonged to a subtask that had
          // already finished (all its partitions read to their end), whose state checkpoints no longer hold.
          start = end = 0n;
        }
        start ??= await this.startOffset(admin, topic.name, p, startFrom, low, high);
        this.splits.set(id, {
          topic: topic.name,
          partition: p,
          id,
          next: start,
          end,
          buffer: [],
          paused: false,
          skipTo: 0n,
          blocked: false,
          finished: end !== undefined && start >= end,
        });
      }
    }
    const live = [...this.splits.values()].filter((s) => !s.finished);
    if (live.length === 0) return;
    const assignment: Record<string, number[]> = {};
    for (const s of live) (assignment[s.topic] ??= []).push(s.partition);
    const topics = Object.keys(assignment);
    // kafkajs has no consumer.assign(): a group of one member per subtask, whose assigner hands it exactly its splits.
    const assigner = staticAssigner(assignment);
    const groupId = `${this.commitGroup}-${index}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const consumer = (this.consumer = this.kafka.consumer({
      groupId,
      partitionAssigners: [assigner],
      readUncommitted: false,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: this.options.fetchMaxWaitMs ?? 200,
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      rebalanceTimeout: this.options.sessionTimeoutMs ?? 10_000,
    }));
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    // kafkajs reports retriable errors (e.g. a coordinator still loading) as a crash it restarts from: fail only when it gives up.
    consumer.on(consumer.events.CRASH, (e) => {
      if ((e.payload as { restart?: boolean }).restart !== false) return;
      this.failure ??= e.payload.error;
      this.wake();
    });
    // Seek once the group is joined (seek before that throws); again after any rejoin, to the position after what is buffered.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const s of live) {
        if (s.finished) continue;
        const position = s.buffer.length > 0 ? BigInt(s.buffer[s.buffer.length - 1].offset) + 1n : s.next;
        try {
          consumer.seek({ topic: s.topic, partition: s.partition, offset: position.toString() });
        } catch (error) {
          this.failure ??= error;
          this.wake();
        }
      }
    });
    // Transaction markers and aborted records take offsets but are never delivered: the end of a batch
    // (batches are buffered whole) lets the position move past them, so a bounded read of a transactional topic reaches its end.
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      const s = this.splits.get(splitId(e.payload.topic, e.payload.partition));
      const last = (e.payload as { lastOffset?: string | null }).lastOffset;
      if (s === undefined || last === null || last === undefined) return;
      const through = BigInt(last) + 1n;
      if (through > s.skipTo) s.skipTo = through;
      this.wake();
    });
    await consumer.run({
      autoCommit: false,
      // Whole batches: kafkajs' per-message callback costs more than the rest of the read path.
      eachBatch: async ({ batch }) => {
        const s = this.splits.get(splitId(batch.topic, batch.partition));
        if (s === undefined || s.finished) return;
        let last = s.buffer.length > 0 ? BigInt(s.buffer[s.buffer.length - 1].offset) : s.next - 1n;
        for (const message of committedMessages(batch)) {
          const offset = BigInt(message.offset);
          if (offset <= last) continue; // re-fetched after a pause: already buffered or emitted
          if (s.end !== undefined && offset >= s.end) break;
          s.buffer.push(message);
          last = offset;
        }
        if (s.buffer.length >= this.maxBuffered && !s.paused) {
          s.paused = true;
          consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
        }
        this.wake();
      },
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve();
  }

  pollNext(output: ReaderOutput<T>, maxRecords: number): SourceStatus {
    if (this.failure !== undefined) throw this.failure;
    this.skipLog?.tick(this.skipped);
    let budget = maxRecords;
    let allFinished = true;
    const d = this.options.deserializer ?? 'json';
    for (const s of this.splits.values()) {
      if (s.finished) continue;
      const out = output.createOutputForSplit(s.id);
      while (budget > 0 && s.buffer.length > 0 && !s.blocked) {
        const m = s.buffer[0];
        const offset = BigInt(m.offset);
        let value: T;
        let ok = true;
        try {
          value = deserialize(d, m, s.topic, s.partition);
        } catch (error) {
          ok = false;
          const policy = this.options.onError ?? 'fail';
          if (policy === 'dead-letter') {
            // The record stays at the head, and the partition's position before it, until the broker has the dead letter.
            this.sendToDeadLetter(s, m, error);
            break;
          }
          if (policy === 'fail')
            throw new WeirError(
              `Kafka source '${this.context.operatorName}' (subtask ${this.context.subtaskIndex}): cannot deserialize the record of topic '${s.topic}' partition ${s.partition} offset ${m.offset}: ${error instanceof Error ? error.message : String(error)}`,
              {
                code: ErrorCodes.USER_FUNCTION,
                domain: 'user',
                operator: this.context.operatorName,
                subtask: this.context.subtaskIndex,
                cause: error,
              },
            );
          this.skipped++;
          this.skipLog?.skipped(
            () =>
              `a record it cannot deserialize: topic '${s.topic}' partition ${s.partition} offset ${m.offset}: ${error instanceof Error ? error.message : String(error)}`,
            this.skipped,
          );
          value = undefined as T;
        }
        s.buffer.shift();
        if (ok) out.collect(value, Number(m.timestamp));
        s.next = offset + 1n;
        budget--;
      }
      if (s.buffer.length === 0 && s.skipTo > s.next) s.next = s.skipTo;
      if (s.paused && s.buffer.length <= this.maxBuffered / 2) {
        s.paused = false;
        this.consumer?.resume([{ topic: s.topic, partitions: [s.partition] }]);
      }
      if (s.end !== undefined && s.next >= s.end) {
        s.finished = true;
        output.releaseOutputForSplit(s.id);
        continue;
      }
      allFinished = false;
    }
    if (allFinished) return 'end';
    for (const s of this.splits.values()) if (!s.finished && !s.blocked && s.buffer.length > 0) return 'more';
    return 'wait';
  }

  /** Writes a rejected record as it was read (key, value, headers) to the dead-letter topic, with headers naming its origin and the error. */
  private sendToDeadLetter(s: PartitionSplit, m: KafkaMessage, error: unknown): void {
    s.blocked = true;
    const reason = error instanceof Error ? error.message : String(error);
    const headers: IHeaders = {
      ...(m.headers ?? {}),
      [DEAD_LETTER_HEADERS.topic]: s.topic,
      [DEAD_LETTER_HEADERS.partition]: String(s.partition),
      [DEAD_LETTER_HEADERS.offset]: m.offset,
      [DEAD_LETTER_HEADERS.timestamp]: m.timestamp,
      [DEAD_LETTER_HEADERS.error]: reason.length > 2000 ? `${reason.slice(0, 2000)}…` : reason,
    };
    const topic = this.options.deadLetterTopic as string;
    (this.deadLetterProducer as Producer).send({ topic, messages: [{ key: m.key ?? null, value: m.value, headers }] }).then(
      () => {
        if (s.buffer[0] === m) {
          s.buffer.shift();
          s.next = BigInt(m.offset) + 1n;
          this.deadLettered++;
        }
        s.blocked = false;
        this.wake();
      },
      (cause: unknown) => {
        this.failure ??= new WeirError(
          `Kafka source '${this.context.operatorName}' (subtask ${this.context.subtaskIndex}): cannot write the rejected record of topic '${s.topic}' partition ${s.partition} offset ${m.offset} to the dead-letter topic '${topic}': ${cause instanceof Error ? cause.message : String(cause)}`,
          {
            code: ErrorCodes.SINK_IO,
            domain: 'external',
            retriable: true,
            operator: this.context.operatorName,
            subtask: this.context.subtaskIndex,
            cause,
          },
        );
        this.wake();
      },
    );
  }

  counters(): Record<string, number> {
    return {
      'kafka.records_skipped': this.skipped,
      'kafka.records_dead_lettered': this.deadLettered,
      'kafka.commit_failures': this.commitFailures,
    };
  }

  available(): Promise<void> {
    if (this.failure !== undefined) return Promise.resolve();
    for (const s of this.splits.values())
      if (!s.finished && !s.blocked && (s.buffer.length > 0 || (s.end !== undefined && s.skipTo >= s.end))) return Promise.resolve();
    if (this.splits.size > 0 && [...this.splits.values()].every((s) => s.finished)) return Promise.resolve();
    if (this.waiter === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.waiter = { promise, resolve };
    }
    return this.waiter.promise;
  }

  snapshotState(checkpointId?: number): KafkaSourceState {
    const offsets: Record<string, string> = {};
    for (const s of this.splits.values()) offsets[s.id] = s.next.toString();
    if (checkpointId !== undefined && this.options.commitOffsetsOnCheckpoint === true) this.toCommit.set(checkpointId, offsets);
    return { offsets, skipped: this.skipped, deadLettered: this.deadLettered };
  }

  /** The group offsets are committed to. */
  private get commitGroup(): string {
    return this.options.groupId ?? `weir-${this.context.operatorName}`;
  }

  private readonly toCommit = new Map<number, Record<string, string>>();
  private commits: Promise<void> = Promise.resolve();
  private commitFailures = 0;

  /** The newest checkpoint whose offsets are to be committed. */
  private newestCommit = -1;

  /** Commits the offsets of a completed checkpoint to the group (for information: a failure is only counted). */
  notifyCheckpointComplete(checkpointId: number): void {
    const state = this.toCommit.get(checkpointId);
    for (const id of [...this.toCommit.keys()]) if (id <= checkpointId) this.toCommit.delete(id);
    if (state === undefined || this.admin === undefined) return;
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const s of this.splits.values()) {
      const offset = state[s.id];
      if (offset !== undefined) (byTopic.get(s.topic) ?? byTopic.set(s.topic, []).get(s.topic))?.push({ partition: s.partition, offset });
    }
    this.newestCommit = checkpointId;
    this.commits = this.commits.then(async () => {
      // A newer checkpoint's offsets replace these: a commit still queued behind a slow one (a broker
      // that is away) is skipped, so the newest lands soon, and before the job's end.
      if (checkpointId < this.newestCommit) return;
      if (!(await this.commitOffsets(byTopic))) this.commitFailures++;
    });
  }

  private offsetsProducer: Producer | undefined;

  /**
   * Commits this subtask's offsets to the group in a transaction of its own producer (Kafka's
   * TxnOffsetCommit): it needs no membership in the group, where kafkajs' `admin.setOffsets` joins
   * the group with a consumer (seconds per commit, one subtask at a time) and rewrites every
   * partition of the topic. Only these partitions are written, so subtasks commit side by side. The
   * transactional id is the group's and the subtask's, so a restarted subtask fences its
   * predecessor and aborts a commit it left open. Returns whether the commit landed.
   */
  private async commitOffsets(byTopic: Map<string, { partition: number; offset: string }[]>): Promise<boolean> {
    try {
      if (this.offsetsProducer === undefined) {
        const producer = this.kafka.producer({
          transactionalId: `weir-offsets-${this.commitGroup}-${this.context.subtaskIndex}`,
          idempotent: true,
          maxInFlightRequests: 1,
          transactionTimeout: 10_000,
        });
        await withTimeout(producer.connect());
        this.offsetsProducer = producer;
      }
      const transaction = await withTimeout(this.offsetsProducer.transaction());
      try {
        const topics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
        await withTimeout(transaction.sendOffsets({ consumerGroupId: this.commitGroup, topics }));
        await withTimeout(transaction.commit());
      } catch (error) {
        await transaction.abort().catch(() => undefined);
        throw error;
      }
      return true;
    } catch {
      const producer = this.offsetsProducer;
      this.offsetsProducer = undefined;
      await producer?.disconnect().catch(() => undefined);
      return false;
    }
  }

  /** Names of the topics read: the listed ones and those the pattern matches. */
  private async topicNames(admin: Admin): Promise<string[]> {
    const names = new Set(this.options.topics ?? []);
    const pattern = this.options.topicPattern;
    if (pattern !== undefined) {
      const re = typeof pattern === 'string' ? new RegExp(pattern) : pattern;
      for (const t of await admin.listTopics()) if (!t.startsWith('__') && re.test(t) && t !== this.options.deadLetterTopic) names.add(t);
    }
    if (names.size === 0)
      throw new WeirError(`Kafka source '${this.context.operatorName}': no topic matches ${String(pattern)}`, {
        code: ErrorCodes.CONFIG,
        domain: 'user',
        operator: this.context.operatorName,
      });
    return [...names].sort();
  }

  /** Where a partition without restored position starts. */
  private async startOffset(
    admin: Admin,
    topic: string,
    partition: number,
    startFrom: NonNullable<KafkaSourceOptions<T>['startFrom']>,
    low: bigint,
    high: bigint,
  ): Promise<bigint> {
    if (startFrom === 'earliest') return low;
    if (startFrom === 'latest') return high;
    const clamp = (o: bigint) => (o < low ? low : o > high ? high : o);
    if (startFrom === 'committed') {
      const committed = (this.committedOffsets ??= admin
        .fetchOffsets({ groupId: this.commitGroup, topics: [] as string[] })
        .catch(() => []));
      const forTopic = (await committed).find((t) => t.topic === topic);
      const offset = forTopic?.partitions.find((x) => x.partition === partition)?.offset;
      return offset === undefined || offset === '-1' ? low : clamp(BigInt(offset));
    }
    const byTime = (this.timeOffsets[topic] ??= admin.fetchTopicOffsetsByTimestamp(topic, startFrom.timestamp));
    const offset = (await byTime).find((x) => x.partition === partition)?.offset;
    return offset === undefined || offset === '-1' ? high : clamp(BigInt(offset));
  }

  private committedOffsets: Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]> | undefined;
  private readonly timeOffsets: Record<string, Promise<{ partition: number; offset: string }[]>> = {};

  async close(): Promise<void> {
    this.skipLog?.flush(this.skipped);
    this.wake();
    // Commits are for information: a broker that is away delays the end by 20 s at most.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.commits, new Promise((r) => (timer = setTimeout(r, 20_000)))]);
    clearTimeout(timer);
    await this.consumer?.disconnect().catch(() => undefined);
    await this.deadLetterProducer?.disconnect().catch(() => undefined);
    await this.offsetsProducer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  }
}

/**
 * Reads Kafka topics (Flink's KafkaSource): every partition is a split, subtask `i` of `n` reads
 * the partitions `p` with `p % n === i`, each through its own split output (watermarks per
 * partition). Its checkpoint state is the next offset of each of its partitions; a restore resumes
 * there (at any parallelism), so with checkpointing the records it emits are replayed exactly
 * from the restored checkpoint. With `commitOffsetsOnCheckpoint`, a completed checkpoint's offsets are also committed to the
 * consumer group `groupId`, for monitoring and for a later job's `startFrom: 'committed'`.
 *
 * **Rejected records.** With `onError: 'dead-letter'` a record the deserializer rejects is written
 * as it was read (key, value, headers) to `deadLetterTopic`, with the headers of
 * {@link DEAD_LETTER_HEADERS} naming its topic, partition, offset, timestamp and the error. Its
 * partition waits until the broker acknowledged the dead letter (other partitions go on), and its
 * checkpointed position stays before the record until then, so no record is lost. The dead letters
 * are written at least once: after a restore from a checkpoint taken before the acknowledgement,
 * the record is read and rejected again and a second copy is written (same origin headers, so a
 * reader can drop copies by topic, partition and offset). Records of the main stream stay exactly
 * once.
 *
 * Reads with isolation `read_committed`. In bounded mode (`stopAtOffsets: 'latest'`) a partition
 * ends once its end offset at open is reached (transaction markers and aborted records count as
 * read once kafkajs fetched past them).
 */
export function kafkaSource<T = unknown>(options: KafkaSourceOptions<T>): Source<T> {
  if (options.brokers.length === 0)
    throw new WeirError('kafkaSource needs at least one broker', { code: ErrorCodes.CONFIG, domain: 'user' });
  if ((options.topics ?? []).length === 0 && options.topicPattern === undefined)
    throw new WeirError('kafkaSource needs topics or a topicPattern', { code: ErrorCodes.CONFIG, domain: 'user' });
  const start = options.startFrom;
  if (typeof start === 'object' && !(Number.isInteger(start?.timestamp) && start.timestamp >= 0))
    throw new WeirError(`kafkaSource: startFrom.timestamp must be a non-negative integer (ms), got ${String(start?.timestamp)}`, {
      code: ErrorCodes.CONFIG,
      domain: 'user',
    });
  resolveSkippedRecordsLog('kafkaSource', options.logSkipped);
  if (options.onError === 'dead-letter' && !options.deadLetterTopic)
    throw new WeirError("kafkaSource with onError 'dead-letter' needs a deadLetterTopic", { code: ErrorCodes.CONFIG, domain: 'user' });
  if (options.deadLetterTopic !== undefined && (options.topics ?? []).includes(options.deadLetterTopic))
    throw new WeirError(`kafkaSource: the dead-letter topic '${options.deadLetterTopic}' is also read`, {
      code: ErrorCodes.CONFIG,
      domain: 'user',
    });
  return {
    name: options.name ?? 'Kafka Source',
    createReader: (context: SourceReaderContext) => new KafkaSourceReader<T>(options, context),
  };
}
