//! The subtask actor: runs one parallel instance of an operator chain, fed by its bounded mailbox or by a source reader.

import {
  TAG_BARRIER,
  TAG_END,
  TAG_LATENCY,
  TAG_RECORD,
  TAG_TIMED_RECORD,
  TAG_WATERMARK,
  TAG_WATERMARK_STATUS,
  elementWidth,
  type ElementBatch,
} from '../core/elements.ts';
import { ErrorCodes, WeirError, userFunctionError } from '../core/errors.ts';
import type { SubtaskMetrics } from '../core/protocol.ts';
import type { OperatorSample, SubtaskSample } from '../core/metrics.ts';
import type { BoundedMailbox } from '../mailbox/bounded-mailbox.ts';
import type { ChannelWriter, ChannelWriterOwner } from '../mailbox/channel-writer.ts';
import { BarrierAligner, type Barrier, type CheckpointingMode } from '../checkpoint/barrier-aligner.ts';
import { encodeChannelBatch, encodeChannelState, inFlightElements, type RestoredChannelState } from '../checkpoint/channel-state.ts';
import { BufferDebloater, type BufferDebloatConfig } from '../mailbox/buffer-debloater.ts';
import { WatermarkValve } from '../time/watermark-valve.ts';
import { MAX_WATERMARK } from '../time/index.ts';
import type { StreamOperator } from './operator.ts';
import { SourceOperator } from './source-operator.ts';
import type { RecordWriterOutput } from './outputs.ts';
import type { RuntimeClock } from '../time/processing-time.ts';

/** Runs actors cooperatively on one thread. */
export interface ActorScheduler {
  /** Asks for `actor` to get a run slice soon. */
  schedule(actor: SubtaskActor): void;
  /** A writer has a partial batch for the buffer-timeout flush. */
  registerDirty(writer: ChannelWriter): void;
}

/** Told when a subtask ends. */
export interface SubtaskListener {
  /** The subtask consumed all input, flushed its outputs and closed its operators. */
  subtaskFinished(actor: SubtaskActor): void;
  /** The subtask failed; the job must be cancelled (or restarted). */
  subtaskFailed(actor: SubtaskActor, error: unknown): void;
  /** The subtask took its part of a checkpoint. */
  checkpointAcknowledged?(actor: SubtaskActor, checkpointId: number, state: SubtaskCheckpoint): void;
  /** The subtask could not take its part of a checkpoint. */
  checkpointDeclined?(actor: SubtaskActor, checkpointId: number, reason: string): void;
  /** All input consumed and outputs flushed; waiting for the final checkpoint before closing. */
  subtaskEnded?(actor: SubtaskActor): void;
}

/** Life cycle of a subtask actor. */
export type SubtaskState = 'created' | 'opening' | 'running' | 'draining' | 'ended' | 'closing' | 'finished' | 'failed' | 'cancelled';

/** What a subtask hands in for a checkpoint: each operator's state, msgpack-encoded at the barrier. */
export interface SubtaskCheckpoint {
  /** Encoded {@link OperatorSubtaskState} per operator id (and keyed state per key group entry). */
  operators: Record<string, Uint8Array>;
}

/** A snapshot whose keyed state is still being copied (copy-on-write) after the barrier went on. */
export interface PendingSubtaskCheckpoint {
  /** Copies more until `deadline`; returns whether the copy is complete. */
  step(deadline: number): boolean;
  /** Completes the copy and returns the checkpoint (a promise when state is read from disk). */
  result(): SubtaskCheckpoint | Promise<SubtaskCheckpoint>;
}

/** Longest a background snapshot step runs before the actor takes records again. */
const SNAPSHOT_STEP_MS = 2;

/** Time a source poll should take: the poll budget shrinks below the batch size when records are slow. */
const POLL_MS = 2;

/** The in-flight data an unaligned checkpoint collects until its barrier came on every input channel. */
interface ChannelCapture {
  barrier: Barrier;
  /** Encoded in-flight batches per input channel. */
  inputs: Uint8Array[][];
  /** Encoded unshipped batches per output writer. */
  outputs: Uint8Array[][];
  /** Settles the checkpoint's channel-state entry (undefined: the checkpoint was given up). */
  resolve(entry: Uint8Array | undefined): void;
}

/** What the scheduler needs to build a subtask actor. */
export interface SubtaskActorSpec {
  /** Chain name (operators joined by ` -> `). */
  taskName: string;
  subtaskIndex: number;
  /** Operators of the chain in topological order; the first is the head. */
  operators: StreamOperator[];
  /** The mailbox feeding the head; absent when the head is a source. */
  mailbox?: BoundedMailbox;
  /** Record writers at the chain's end (one per outgoing edge). */
  recordWriters: RecordWriterOutput[];
  /** Elements per batch; also the source poll budget. */
  batchSize: number;
  /** For each mailbox channel, the head's input (1 or 2) it feeds; all 1 for one-input heads. */
  channelInputs?: (1 | 2)[];
  /**
   * Called before the head processes a batch (from element `from`, of head input `input`): a state
   * backend on disk loads the batch's keys. A promise parks the actor (no records, no mails) until
   * it settles; the batch is prepared again then.
   */
  prepareInput?: (batch: ElementBatch, from: number, input: 1 | 2) => void | Promise<void>;
  /** Checkpointing, when on: the alignment mode and how to snapshot this subtask's operators. */
  checkpointing?: {
    mode: CheckpointingMode;
    /**
     * Takes the synchronous part of the snapshot of every operator of the chain (encoded, so later
     * writes cannot change it); keyed state may still be copying (copy-on-write) when it returns.
     */
    snapshot(checkpointId: number): SubtaskCheckpoint | PendingSubtaskCheckpoint;
    /** Unaligned checkpoints, when on: the aligned timeout and the entry name of the channel state. */
    unaligned?: { alignedTimeoutMs: number; channelStateEntry: string };
  };
  /** In-flight data restored from an unaligned checkpoint: replayed before any new input, shipped before any new output. */
  restoredChannels?: RestoredChannelState;
  /** Buffer debloating of the mailbox's channels, when on. */
  debloat?: BufferDebloatConfig;
  /** Busy/idle/backpressured time accounting at run-slice transitions (default on; `ExecuteOptions.metrics`). */
  timeAccounting?: boolean;
  /** Vertex index in the job graph (for samples). */
  vertex?: number;
  /** The chain's operator samples beyond the subtask's own counters (state, timers, windows), taken when sampled. */
  sampleOperators?(): OperatorSample[];
  /**
   * A deterministic simulation drives this subtask (weir/testing): a slice's deadline counts
   * records (the head's input, a source's output) instead of milliseconds, a source polls no more
   * than the slice has left, a background snapshot copies one key group per step, and deferred
   * steps, alignment timeouts and barrier timestamps use the simulation's clock.
   */
  simulation?: { clock: RuntimeClock };
}

/**
 * One parallel instance of a chain, as an actor.
 *
 * Threading model: all methods run on the thread of its {@link ActorScheduler}; input arrives in
 * the mailbox from MessagePort handlers or in-thread writers on that same thread, credits the
 * same way. The actor never blocks the thread: when an output has no credit it stops after the
 * current record and resumes when the writer reports it available.
 *
 * Life cycle: created → opening → running → draining (input ended, outputs still shipping) →
 * closing → finished; failed or cancelled from any state.
 */
export class SubtaskActor implements ChannelWriterOwner {
  state: SubtaskState = 'created';
  private readonly head: StreamOperator;
  private readonly source: SourceOperator | undefined;
  private readonly writers: ChannelWriter[] = [];
  private blockedWriters = 0;
  private currentBatch: ElementBatch | undefined;
  private currentChannel = -1;
  private position = 0;
  private endedChannels = 0;
  private readonly valve: WatermarkValve | undefined;
  private sourceWaiting = false;
  private backpressureStalls = 0;
  private readonly mails: (() => void)[] = [];
  private readonly channelInputs: (1 | 2)[] | undefined;
  private idle = false;
  private readonly aligner: BarrierAligner | undefined;
  /** Checkpoints triggered on this subtask and not yet acknowledged or declined. */
  private readonly pendingCheckpoints = new Set<number>();
  /** Whether the current batch's channel was blocked in the middle of it. */
  private stopBatch = false;
  /** Whether the subtask stays open after its input ended, for a final checkpoint. */
  private awaitFinal = false;
  /** The newest checkpoint this subtask acknowledged. */
  private lastAcknowledged = 0;
  /** A snapshot still copying keyed state in the background, acknowledged when complete. */
  private copying: { id: number; pending: PendingSubtaskCheckpoint } | undefined;
  /** Acknowledgements waiting for an asynchronous snapshot, in checkpoint order. */
  private acks: Promise<void> | undefined;
  /** Waiting for {@link SubtaskActorSpec.prepareInput}. */
  private parked = false;
  /** Whether the current batch is prepared. */
  private prepared = false;
  /** Whether the scheduler has this actor queued. */
  queued = false;
  /** The unaligned checkpoint collecting in-flight data now. */
  private capture: ChannelCapture | undefined;
  /** Channel-state entries of unaligned checkpoints not yet acknowledged, by checkpoint id. */
  private readonly channelStates = new Map<number, Uint8Array | Promise<Uint8Array | undefined>>();
  /** Restored in-flight input, processed before the mailbox. */
  private replay: { channel: number; batch: ElementBatch }[] = [];
  private replayHead = 0;
  /** Whether the current batch came from {@link replay} (it holds no credit). */
  private fromReplay = false;
  /** Records between two looks at the clock inside a batch (adapts to the records' cost). */
  private checkStride = 8;
  private lastCheck = 0;
  /** Records a source poll may emit (shrinks when records are slow, so barriers are not held up). */
  private pollBudget: number;
  private readonly debloater: BufferDebloater | undefined;
  /** Batches the priority barrier being handled overtook in its channel's queue. */
  private overtaken = 0;
  /** An aligned checkpoint switched to unaligned: look for its in-band barriers in the queues. */
  private scanQueues = false;
  /** Time accounting (ms), at run-slice transitions: in slices, between slices with an output out of credit, and otherwise. */
  private busyMs = 0;
  private idleMs = 0;
  private backPressuredMs = 0;
  /** When the last slice ended (or accounting started); 0 before the subtask runs. */
  private sliceEnd = 0;
  /** Whether an output was out of credit when the last slice ended. */
  private endedBlocked = false;
  private readonly accounting: boolean;
  /** The checkpoint whose first barrier came and is not aligned yet, and when it came. */
  private alignStarted: { id: number; at: number } | undefined;
  /** Alignment times (ms) of checkpoints not yet acknowledged, for the ack. */
  private readonly alignments = new Map<number, number>();
  /** Set when a simulation drives this subtask (see {@link SubtaskActorSpec.simulation}). */
  private readonly simClock: RuntimeClock | undefined;

  constructor(
    readonly spec: SubtaskActorSpec,
    private readonly scheduler: ActorScheduler,
    private readonly listener: SubtaskListener,
  ) {
    this.head = spec.operators[0];
    this.source = this.head instanceof SourceOperator ? this.head : undefined;
    this.simClock = spec.simulation?.clock;
    if (this.simClock) this.checkStride = 1;
    for (const rw of spec.recordWriters) this.writers.push(...rw.writers);
    this.valve = spec.mailbox ? new WatermarkValve(spec.mailbox.channelCount) : undefined;
    this.channelInputs = spec.channelInputs?.some((i) => i === 2) ? spec.channelInputs : undefined;
    // Polls start small and double while they are quick: a first poll of slow records holds nothing up for long.
    this.pollBudget = Math.min(spec.batchSize, 64);
    const checkpointing = spec.checkpointing;
    if (checkpointing && spec.mailbox) {
      const mailbox = spec.mailbox;
      const unaligned = checkpointing.unaligned;
      this.aligner = new BarrierAligner(
        mailbox.channelCount,
        checkpointing.mode,
        {
          block: (channel) => {
            mailbox.block(channel);
            if (channel === this.currentChannel) this.stopBatch = true;
          },
          unblockAll: () => {
            for (let c = 0; c < mailbox.channelCount; c++) if (mailbox.isBlocked(c)) mailbox.unblock(c);
          },
          aligned: (barrier) => this.checkpointAligned(barrier),
          aborted: (id, reason) => this.abortCapture(id, reason),
          startUnaligned: (barrier) => this.startUnaligned(barrier),
          channelBarrier: (channel, overtook) => {
            if (overtook) this.captureQueued(channel);
          },
          unalignedComplete: (barrier) => this.finishCapture(barrier),
          armTimeout: (barrier, delayMs) => {
            const timedOut = () => this.enqueueMail(() => this.aligner?.alignmentTimedOut(barrier.id));
            if (this.simClock) this.simClock.setTimer(Math.max(0, delayMs), timedOut, 'alignment timeout');
            else setTimeout(timedOut, Math.max(0, delayMs)).unref?.();
          },
          now: this.simClock ? () => (this.simClock as RuntimeClock).now() : undefined,
        },
        { enabled: unaligned !== undefined, alignedTimeoutMs: unaligned?.alignedTimeoutMs ?? 0 },
      );
      if (unaligned)
        mailbox.onPriority = (channel, event, overtaken) => this.enqueueMail(() => this.priorityEvent(channel, event, overtaken));
    }
    this.awaitFinal = checkpointing !== undefined;
    const restored = spec.restoredChannels;
    if (restored) restored.inputs.forEach((batches, channel) => batches.forEach((batch) => this.replay.push({ channel, batch })));
    if (spec.debloat && spec.mailbox && spec.debloat.targetMs > 0) this.debloater = new BufferDebloater(spec.debloat);
    this.accounting = spec.timeAccounting !== false;
  }

  // ---- unaligned checkpoints

  /** A priority event overtook a channel's queue: an unaligned checkpoint barrier. */
  private priorityEvent(channel: number, event: ElementBatch, overtaken: number): void {
    if (event[0] !== TAG_BARRIER || this.state !== 'running') return;
    // Batches queued after the event came are after the barrier; the mail ran before any was taken.
    this.overtaken = overtaken;
    this.aligner?.onBarrier(channel, { id: event[1] as number, timestamp: event[2] as number, kind: 'checkpoint' }, true);
  }

  /** The first barrier of an unaligned checkpoint: record from here, snapshot, and send the barrier ahead of the outputs. */
  private startUnaligned(barrier: Barrier): void {
    const channels = (this.spec.mailbox as BoundedMailbox).channelCount;
    let resolve!: (entry: Uint8Array | undefined) => void;
    const entry = new Promise<Uint8Array | undefined>((r) => (resolve = r));
    this.capture = { barrier, inputs: Array.from({ length: channels }, () => []), outputs: [], resolve };
    this.channelStates.set(barrier.id, entry);
    // The rest of the batch in hand is consumed after the snapshot: in flight for its channel.
    if (this.currentBatch !== undefined && this.aligner?.isRecording(this.currentChannel))
      this.record(this.currentChannel, this.currentBatch, this.position);
    // An aligned checkpoint that timed out: its in-band barriers may already wait in the queues.
    if (this.spec.checkpointing?.unaligned?.alignedTimeoutMs) this.scanQueues = true;
    this.pendingCheckpoints.add(barrier.id);
    this.takeCheckpoint(barrier, true);
  }

  /** Keeps a copy of a batch consumed (from `from`) on a channel whose barrier has not come yet. */
  private record(channel: number, batch: ElementBatch, from: number): void {
    const capture = this.capture;
    if (!capture) return;
    const data = inFlightElements(batch, from, capture.barrier.id);
    if (data.length > 0) capture.inputs[channel].push(encodeChannelBatch(data));
  }

  /** A priority barrier came on `channel`: what it overtook (restored input still to replay, the queue) is in flight. */
  private captureQueued(channel: number): void {
    for (let r = this.replayHead; r < this.replay.length; r++)
      if (this.replay[r].channel === channel) this.record(channel, this.replay[r].batch, 0);
    for (const batch of (this.spec.mailbox as BoundedMailbox).queuedBatches(channel, this.overtaken)) this.record(channel, batch, 0);
  }

  /**
   * After an aligned checkpoint went unaligned: a channel whose in-band barrier is already queued
   * lets it overtake there — the batches before it are in flight, the barrier is taken out.
   */
  private scanForBarriers(): void {
    const aligner = this.aligner as BarrierAligner;
    const barrier = aligner.unalignedBarrier;
    const mailbox = this.spec.mailbox as BoundedMailbox;
    if (!barrier) {
      this.scanQueues = false;
      return;
    }
    for (let c = 0; c < mailbox.channelCount; c++) {
      if (!aligner.isRecording(c)) continue;
      const queued = mailbox.queuedBatches(c);
      const k = queued.findIndex((batch) => findBarrier(batch, barrier.id) >= 0);
      // Not queued yet: the channel is recorded as it is consumed, up to the barrier.
      if (k < 0) continue;
      for (let b = 0; b <= k; b++) this.record(c, queued[b], 0);
      const at = findBarrier(queued[k], barrier.id);
      mailbox.replaceQueued(c, k, [...queued[k].slice(0, at), ...queued[k].slice(at + elementWidth(TAG_BARRIER))]);
      aligner.onBarrier(c, barrier, false);
      if (!aligner.unalignedBarrier) break;
    }
  }

  /** Every channel's barrier came: the channel state is complete. */
  private finishCapture(barrier: Barrier): void {
    const capture = this.capture;
    if (!capture || capture.barrier.id !== barrier.id) return;
    this.capture = undefined;
    this.scanQueues = false;
    const mailbox = this.spec.mailbox as BoundedMailbox;
    const names = mailbox.channelStats().map((c) => c.name);
    capture.resolve(
      encodeChannelState({
        version: 1,
        inputs: capture.inputs.map((batches, c) => ({ name: names[c], batches })),
        outputs: capture.outputs.map((batches, w) => ({ name: this.writers[w].name, batches })),
      }),
    );
  }

  /** A checkpoint was given up while aligning or collecting in-flight data: decline it. */
  private abortCapture(checkpointId: number, reason: string): void {
    const capture = this.capture;
    if (capture && capture.barrier.id === checkpointId) {
      this.capture = undefined;
      this.scanQueues = false;
      capture.resolve(undefined);
      this.listener.checkpointDeclined?.(this, checkpointId, reason);
      return;
    }
    this.decline(checkpointId, reason);
  }

  // ---- checkpoints

  /** The coordinator triggered a checkpoint: a source injects its barrier; a subtask whose input ended answers directly. */
  triggerCheckpoint(barrier: Barrier): void {
    this.enqueueMail(() => {
      if (barrier.id <= this.lastAcknowledged) return;
      if (this.state === 'running' && !this.source) {
        // Barriers will come through the inputs; remember in case the input ends first.
        this.pendingCheckpoints.add(barrier.id);
        return;
      }
      this.pendingCheckpoints.add(barrier.id);
      const inputDone = this.state !== 'running';
      // Unaligned: an actor whose input ended but whose outputs still hold batches sends the
      // barrier ahead of them (aligned, it answers alone: its end of input follows the data).
      const overtake = this.outputOnlyCapture(barrier) !== undefined;
      this.takeCheckpoint(barrier, !inputDone || overtake);
    });
  }

  private checkpointAligned(barrier: Barrier): void {
    if (this.alignStarted !== undefined && this.alignStarted.id === barrier.id) {
      this.alignments.set(barrier.id, performance.now() - this.alignStarted.at);
      this.alignStarted = undefined;
    }
    this.pendingCheckpoints.add(barrier.id);
    this.takeCheckpoint(barrier, true);
  }

  /** Snapshots every operator, forwards the barrier (unless the outputs have ended) and acknowledges. */
  private takeCheckpoint(barrier: Barrier, forwardBarrier: boolean): void {
    if (!this.pendingCheckpoints.has(barrier.id)) return;
    const checkpointing = this.spec.checkpointing;
    if (!checkpointing) return;
    // A previous snapshot still copying is completed first: acknowledgements stay in order.
    this.completeCopy();
    let state: SubtaskCheckpoint | PendingSubtaskCheckpoint;
    try {
      state = checkpointing.snapshot(barrier.id);
    } catch (error) {
      this.decline(barrier.id, `snapshot failed: ${(error as Error)?.message ?? String(error)}`);
      this.fail(error);
      return;
    }
    if (forwardBarrier) {
      const ongoing = this.capture?.barrier.id === barrier.id ? this.capture : undefined;
      const capture = ongoing ?? this.outputOnlyCapture(barrier);
      if (capture) {
        // Unaligned: the barrier overtakes what the outputs have not shipped, which is kept as output state.
        const event: ElementBatch = [TAG_BARRIER, barrier.id, barrier.timestamp, 0];
        for (const writer of this.writers) {
          const pending = writer.overtakeWith(event);
          const data: Uint8Array[] = [];
          for (const batch of pending) {
            // A restored subtask sends its own end of input again.
            const elements = inFlightElements(batch, 0, -1);
            if (elements.length > 0) data.push(encodeChannelBatch(elements));
          }
          capture.outputs.push(data);
        }
        if (!ongoing) this.finishOutputOnlyCapture(capture);
      } else {
        for (const writer of this.writers) {
          writer.appendEvent(TAG_BARRIER, barrier.id, barrier.timestamp, barrier.kind === 'savepoint' ? 1 : 0);
          writer.flush();
        }
      }
    }
    this.pendingCheckpoints.delete(barrier.id);
    if (barrier.id > this.lastAcknowledged) this.lastAcknowledged = barrier.id;
    if ('step' in state) {
      // Records flow again right away; keyed state is copied between them (copy-on-write).
      this.copying = { id: barrier.id, pending: state };
      this.enqueueMail(() => this.copyStep());
      return;
    }
    this.acknowledge(barrier.id, state);
  }

  /**
   * An unaligned checkpoint of a source, or of an actor whose input has ended: no input channel
   * holds in-flight data, so its channel state is its outputs' alone.
   */
  private outputOnlyCapture(barrier: Barrier): ChannelCapture | undefined {
    const unaligned = this.spec.checkpointing?.unaligned;
    if (!unaligned || barrier.kind !== 'checkpoint') return undefined;
    const inputDone = this.state === 'draining' || this.state === 'ended';
    if (this.spec.mailbox ? !inputDone : unaligned.alignedTimeoutMs > 0) return undefined;
    return { barrier, inputs: [], outputs: [], resolve: () => undefined };
  }

  private finishOutputOnlyCapture(capture: ChannelCapture): void {
    const names = this.spec.mailbox?.channelStats().map((c) => c.name) ?? [];
    this.channelStates.set(
      capture.barrier.id,
      encodeChannelState({
        version: 1,
        inputs: names.map((name) => ({ name, batches: [] })),
        outputs: capture.outputs.map((batches, w) => ({ name: this.writers[w].name, batches })),
      }),
    );
  }

  /** Acknowledges a snapshot to the listener, after any earlier one still finishing asynchronously. */
  private acknowledge(checkpointId: number, snapshot: SubtaskCheckpoint | Promise<SubtaskCheckpoint>): void {
    let state: SubtaskCheckpoint | undefined | Promise<SubtaskCheckpoint | undefined> = snapshot;
    const channels = this.channelStates.get(checkpointId);
    if (channels !== undefined) {
      // An unaligned checkpoint: its channel state joins the operators' (when it is complete).
      this.channelStates.delete(checkpointId);
      const entry = (this.spec.checkpointing?.unaligned?.channelStateEntry ?? '') as string;
      const merge = (s: SubtaskCheckpoint, ch: Uint8Array | undefined): SubtaskCheckpoint | undefined =>
        ch === undefined ? undefined : { operators: { ...s.operators, [entry]: ch } };
      state =
        channels instanceof Promise || snapshot instanceof Promise
          ? Promise.all([snapshot, channels]).then(([s, ch]) => merge(s, ch))
          : merge(snapshot, channels);
    }
    if (this.acks === undefined && !(state instanceof Promise)) {
      if (state !== undefined) this.listener.checkpointAcknowledged?.(this, checkpointId, state);
      return;
    }
    const next: Promise<void> = (this.acks ?? Promise.resolve())
      .then(() => state)
      .then(
        (done) => {
          // undefined: the unaligned checkpoint was given up (and declined) while its channel state was collected.
          if (done !== undefined && this.state !== 'failed' && this.state !== 'cancelled')
            this.listener.checkpointAcknowledged?.(this, checkpointId, done);
        },
        (error) => {
          this.listener.checkpointDeclined?.(this, checkpointId, `snapshot failed: ${(error as Error)?.message ?? String(error)}`);
          this.fail(error);
        },
      )
      .finally(() => {
        if (this.acks === next) this.acks = undefined;
      });
    this.acks = next;
  }

  private copyStep(): void {
    const copying = this.copying;
    if (!copying) return;
    // Simulated: one key group per step (a deadline already passed).
    if (copying.pending.step(this.simClock ? Number.NEGATIVE_INFINITY : performance.now() + SNAPSHOT_STEP_MS)) this.completeCopy();
    // The next step waits a scheduler round: records are processed in between (a mail queued
    // now would run before them).
    else if (this.simClock) this.simClock.defer(() => this.enqueueMail(() => this.copyStep()));
    else setImmediate(() => this.enqueueMail(() => this.copyStep()));
  }

  /** Finishes the background copy (if any) now and acknowledges it. */
  private completeCopy(): void {
    const copying = this.copying;
    if (!copying) return;
    this.copying = undefined;
    let state: SubtaskCheckpoint | Promise<SubtaskCheckpoint>;
    try {
      state = copying.pending.result();
    } catch (error) {
      this.listener.checkpointDeclined?.(this, copying.id, `snapshot failed: ${(error as Error)?.message ?? String(error)}`);
      this.fail(error);
      return;
    }
    this.acknowledge(copying.id, state);
  }

  private decline(checkpointId: number, reason: string): void {
    if (!this.pendingCheckpoints.delete(checkpointId)) return;
    this.listener.checkpointDeclined?.(this, checkpointId, reason);
  }

  /** A checkpoint completed everywhere: operators commit (two-phase commit sinks). */
  notifyCheckpointComplete(checkpointId: number): Promise<void> {
    return new Promise((resolve) => {
      this.enqueueMail(() => {
        void (async () => {
          try {
            for (const op of this.spec.operators) await op.notifyCheckpointComplete?.(checkpointId);
          } catch (error) {
            this.fail(error);
          }
          resolve();
        })();
      });
      if (this.state === 'finished' || this.state === 'failed' || this.state === 'cancelled') resolve();
    });
  }

  /** A checkpoint was aborted by the coordinator (timeout, decline elsewhere). */
  abortCheckpoint(checkpointId: number): void {
    this.enqueueMail(() => {
      this.aligner?.abortCurrent(checkpointId, 'aborted by the coordinator');
      this.pendingCheckpoints.delete(checkpointId);
      for (const op of this.spec.operators) op.notifyCheckpointAborted?.(checkpointId);
    });
  }

  /** The final checkpoint completed (or checkpointing is off): close operators and finish. */
  finish(): void {
    if (this.state !== 'ended') return;
    this.state = 'closing';
    void this.closeOperators();
  }

  /**
   * Queues an action (a timer callback) to run in this actor between records, before more input
   * is taken; mails run even while outputs are out of credit, as Flink's mailbox actions do.
   */
  enqueueMail(mail: () => void): void {
    const state = this.state;
    if (state !== 'running' && state !== 'opening' && state !== 'draining' && state !== 'ended') return;
    this.mails.push(mail);
    if (!this.queued) this.scheduler.schedule(this);
  }

  private get takesMail(): boolean {
    const state = this.state;
    return state === 'running' || state === 'draining' || state === 'ended';
  }

  /** `task (index/parallelism)`, for logs. */
  get name(): string {
    return `${this.spec.taskName} (${this.spec.subtaskIndex})`;
  }

  /** Opens operators from the chain's end to its head, as Flink does, then starts running. */
  async open(): Promise<void> {
    this.state = 'opening';
    const ops = this.spec.operators;
    for (let i = ops.length - 1; i >= 0; i--) await ops[i].open();
    if (this.state !== 'opening') return;
    // In-flight output of an unaligned checkpoint goes first, ahead of anything new.
    this.spec.restoredChannels?.outputs.forEach((batches, w) => this.writers[w].restoreOutput(batches));
    this.state = 'running';
    if (this.accounting) this.sliceEnd = performance.now();
    this.scheduler.schedule(this);
  }

  /** Whether a run slice would make progress now. */
  get runnable(): boolean {
    if (this.parked) return false;
    if (this.mails.length > 0 && this.takesMail) return true;
    if (this.blockedWriters > 0) return false;
    if (this.state === 'running') {
      if (this.source) return !this.sourceWaiting;
      return this.currentBatch !== undefined || this.replayHead < this.replay.length || (this.spec.mailbox as BoundedMailbox).hasReady;
    }
    return this.state === 'draining';
  }

  /** Input ended and outputs flushed (waiting to finish). */
  get ended(): boolean {
    return this.state === 'ended';
  }

  /** Mailbox hook: new input arrived. */
  onInput(): void {
    if (this.debloater?.idle) this.debloater.idleEnd(performance.now());
    if (this.state === 'running' && !this.queued) this.scheduler.schedule(this);
  }

  onWriterBlocked(): void {
    this.blockedWriters++;
    this.backpressureStalls++;
  }

  onWriterAvailable(): void {
    this.blockedWriters--;
    if (this.blockedWriters === 0 && !this.queued) this.scheduler.schedule(this);
  }

  onWriterDirty(writer: ChannelWriter): void {
    this.scheduler.registerDirty(writer);
  }

  onWriterFailed(_writer: ChannelWriter, error: unknown): void {
    this.fail(error);
  }

  /** Runs until the deadline, a blocked output, or no more input. Errors fail the subtask. */
  runSlice(deadline: number): void {
    if (this.parked) return;
    if (this.accounting) {
      this.runTimedSlice(deadline);
      return;
    }
    this.runSliceOnce(deadline);
  }

  /** Runs for at most `records` records (the head's input, a source's output): a simulated step (see {@link SubtaskActorSpec.simulation}). */
  runRecords(records: number): void {
    this.runSlice(this.sliceClock() + records);
  }

  /** A slice with its time accounted: the gap since the last one was backpressure (an output out of credit) or idleness. */
  private runTimedSlice(deadline: number): void {
    const started = performance.now();
    const end = this.sliceEnd;
    if (end > 0) {
      if (this.endedBlocked) this.backPressuredMs += started - end;
      else this.idleMs += started - end;
    }
    this.runSliceOnce(deadline);
    const now = performance.now();
    this.busyMs += now - started;
    this.sliceEnd = now;
    this.endedBlocked = this.blockedWriters > 0;
  }

  private runSliceOnce(deadline: number): void {
    try {
      while (this.mails.length > 0 && this.takesMail) (this.mails.shift() as () => void)();
      if (this.state === 'running') {
        if (this.source) this.runSource(deadline);
        else this.runInput(deadline);
      }
      if (this.state === 'draining') this.drain();
    } catch (error) {
      this.fail(error);
    }
  }

  private runSource(deadline: number): void {
    const source = this.source as SourceOperator;
    const maxBudget = this.spec.batchSize;
    while (this.blockedWriters === 0 && this.state === 'running' && !this.sourceWaiting) {
      if (this.simClock) {
        // Simulated: the deadline counts records; a poll takes no more than the slice has left.
        const before = this.sliceClock();
        const left = deadline - before;
        if (left <= 0) return;
        const status = source.poll(Math.min(maxBudget, left));
        if (status === 'end' || status === 'wait') {
          this.sourceStatus(source, status);
          return;
        }
        // A poll that emitted nothing ends the step: the next one is the scheduler's choice.
        if (this.sliceClock() === before) return;
        continue;
      }
      const started = performance.now();
      const status = source.poll(this.pollBudget);
      if (status === 'end' || status === 'wait') {
        this.sourceStatus(source, status);
        return;
      }
      // A poll of slow records (a costly function chained to the source) would hold up the
      // checkpoint trigger and everything else queued for this actor: polls aim at POLL_MS.
      const now = performance.now();
      const spent = now - started;
      if (spent > POLL_MS) this.pollBudget = Math.max(1, Math.floor((this.pollBudget * POLL_MS) / spent));
      else if (spent < POLL_MS / 4 && this.pollBudget < maxBudget) this.pollBudget = Math.min(maxBudget, this.pollBudget * 2);
      if (now >= deadline) return;
    }
  }

  /** A source poll ended its input or has to wait for the reader. */
  private sourceStatus(source: SourceOperator, status: 'end' | 'wait'): void {
    if (status === 'end') {
      this.head.processWatermark(MAX_WATERMARK);
      this.endOfInput();
      return;
    }
    source.onReaderWaiting();
    this.sourceWaiting = true;
    const available = source.reader.available?.();
    if (available) {
      available.then(
        () => {
          this.sourceWaiting = false;
          this.scheduler.schedule(this);
        },
        (error) => this.fail(error),
      );
    } else {
      this.sourceWaiting = false;
    }
  }

  /** The clock of a simulated slice: records taken in (a source: records emitted). */
  private sliceClock(): number {
    return this.source ? this.source.recordsOut : this.head.recordsIn;
  }

  private runInput(deadline: number): void {
    const mailbox = this.spec.mailbox as BoundedMailbox;
    const head = this.head;
    const simulated = this.simClock !== undefined;
    this.lastCheck = simulated ? this.sliceClock() : performance.now();
    while (this.blockedWriters === 0 && this.state === 'running') {
      let batch = this.currentBatch;
      if (batch === undefined) {
        if (this.scanQueues) this.scanForBarriers();
        if (this.replayHead < this.replay.length) {
          const next = this.replay[this.replayHead];
          this.replay[this.replayHead++] = undefined as unknown as { channel: number; batch: ElementBatch };
          if (this.replayHead === this.replay.length) {
            this.replay = [];
            this.replayHead = 0;
          }
          batch = this.currentBatch = next.batch;
          this.currentChannel = next.channel;
          this.fromReplay = true;
        } else {
          const polled = mailbox.poll();
          if (polled === undefined) {
            this.debloater?.idleStart(performance.now());
            this.debloat();
            return;
          }
          batch = this.currentBatch = polled.batch;
          this.currentChannel = polled.channel;
          this.fromReplay = false;
        }
        this.position = 0;
        this.prepared = false;
        if (this.aligner !== undefined && this.aligner.recording && this.aligner.isRecording(this.currentChannel))
          this.record(this.currentChannel, batch, 0);
      }
      let i = this.position;
      const n = batch.length;
      const second = this.channelInputs !== undefined && this.channelInputs[this.currentChannel] === 2;
      if (!this.prepared && this.spec.prepareInput !== undefined) {
        const pending = this.spec.prepareInput(batch, i, second ? 2 : 1);
        if (pending !== undefined) {
          this.park(pending);
          return;
        }
        this.prepared = true;
      }
      let countdown = this.checkStride;
      let yielded = false;
      while (i < n && this.blockedWriters === 0) {
        const tag = batch[i];
        if (--countdown === 0) {
          // Between records, now and then: a slow batch must not hold up barriers, credits and mails.
          const now = simulated ? this.sliceClock() : performance.now();
          const spent = now - this.lastCheck;
          this.lastCheck = now;
          // Simulated, the clock counts records: every record looks at it (the stride stays 1).
          if (!simulated) {
            if (spent > 0.5) this.checkStride = Math.max(1, this.checkStride >> 1);
            else if (spent < 0.05 && this.checkStride < 512) this.checkStride <<= 1;
          }
          countdown = this.checkStride;
          if (now >= deadline) {
            yielded = true;
            break;
          }
        }
        if (tag === TAG_RECORD) {
          if (second) (head.processElement2 as (v: unknown, t: number | undefined) => void).call(head, batch[i + 1], undefined);
          else head.processElement(batch[i + 1], undefined);
          i += 2;
        } else if (tag === TAG_TIMED_RECORD) {
          if (second)
            (head.processElement2 as (v: unknown, t: number | undefined) => void).call(head, batch[i + 1], batch[i + 2] as number);
          else head.processElement(batch[i + 1], batch[i + 2] as number);
          i += 3;
        } else {
          this.position = i;
          i = this.handleEvent(batch, i);
          if (this.state !== 'running') break;
          if (this.stopBatch) break;
        }
      }
      this.position = i;
      if (i >= n) {
        this.currentBatch = undefined;
        this.stopBatch = false;
        if (!this.fromReplay) mailbox.release(this.currentChannel);
      } else if (this.stopBatch) {
        // The channel is blocked for alignment: its rest waits at the front of its queue.
        this.stopBatch = false;
        this.currentBatch = undefined;
        if (this.fromReplay) this.replay.splice(this.replayHead, 0, { channel: this.currentChannel, batch: batch.slice(i) });
        else mailbox.requeueFront(this.currentChannel, batch.slice(i));
      }
      if (this.state !== 'running') return;
      if (yielded || (simulated ? this.sliceClock() : performance.now()) >= deadline) {
        this.debloat();
        return;
      }
    }
  }

  /** Buffer debloating: now and then, a new batch size for the senders from the throughput measured. */
  private debloat(): void {
    const debloater = this.debloater;
    if (debloater === undefined) return;
    const mailbox = this.spec.mailbox as BoundedMailbox;
    const size = debloater.update(performance.now(), this.head.recordsIn, mailbox.channelCount - this.endedChannels);
    if (size !== undefined) mailbox.announceBatchLimit(size);
  }

  /** Stops running until `pending` settles (a state backend reading disk), then goes on; a rejection fails the subtask. */
  private park(pending: Promise<void>): void {
    this.parked = true;
    pending.then(
      () => {
        this.parked = false;
        if (!this.queued) this.scheduler.schedule(this);
      },
      (error) => {
        this.parked = false;
        this.fail(error);
      },
    );
  }

  private handleEvent(batch: ElementBatch, i: number): number {
    const tag = batch[i] as number;
    const channel = this.currentChannel;
    const valve = this.valve as WatermarkValve;
    switch (tag) {
      case TAG_WATERMARK: {
        const advanced = valve.onWatermark(channel, batch[i + 1] as number);
        if (advanced !== undefined) this.head.processWatermark(advanced);
        break;
      }
      case TAG_WATERMARK_STATUS: {
        const advanced = valve.onStatus(channel, batch[i + 1] === 1);
        this.updateIdle();
        if (advanced !== undefined) this.head.processWatermark(advanced);
        break;
      }
      case TAG_END: {
        const mailbox = this.spec.mailbox as BoundedMailbox;
        this.endedChannels++;
        mailbox.closeChannel(channel);
        const advanced = valve.onEnd(channel);
        if (advanced !== undefined && this.endedChannels < mailbox.channelCount) this.head.processWatermark(advanced);
        this.aligner?.onEndOfChannel(channel);
        if (this.endedChannels === mailbox.channelCount) {
          mailbox.quiesce();
          this.endOfInput();
        }
        break;
      }
      case TAG_BARRIER: {
        const barrier: Barrier = {
          id: batch[i + 1] as number,
          timestamp: batch[i + 2] as number,
          kind: batch[i + 3] === 1 ? 'savepoint' : 'checkpoint',
        };
        // Alignment time: from the first barrier of a checkpoint to its alignment (one clock read per barrier).
        if (this.aligner && (this.alignStarted === undefined || this.alignStarted.id < barrier.id))
          this.alignStarted = { id: barrier.id, at: performance.now() };
        if (this.aligner) this.aligner.onBarrier(channel, barrier, false);
        break;
      }
      case TAG_LATENCY:
        for (const writer of this.writers) writer.appendEvent(tag, ...batch.slice(i + 1, i + elementWidth(tag)));
        break;
      default:
        throw new WeirError(`corrupt batch in ${this.name}: unknown element tag ${String(tag)}`, {
          code: ErrorCodes.INTERNAL,
          domain: 'internal',
          operator: this.spec.taskName,
          subtask: this.spec.subtaskIndex,
        });
    }
    return i + elementWidth(tag);
  }

  private updateIdle(): void {
    const idle = (this.valve as WatermarkValve).allIdle();
    if (idle === this.idle) return;
    this.idle = idle;
    if (this.head.processWatermarkStatus) this.head.processWatermarkStatus(idle);
  }

  private endOfInput(): void {
    for (const op of this.spec.operators) op.endInput();
    for (const writer of this.writers) {
      writer.appendEvent(TAG_END);
      writer.finish();
    }
    this.state = 'draining';
  }

  private drain(): void {
    for (const writer of this.writers) if (!writer.finished) return;
    if (this.awaitFinal) {
      // Input consumed: checkpoints triggered meanwhile are answered with the final state, and
      // the subtask waits for the job's final checkpoint before it closes (two-phase commits).
      this.state = 'ended';
      this.completeCopy();
      for (const id of [...this.pendingCheckpoints]) {
        const barrier: Barrier = { id, timestamp: this.simClock ? this.simClock.now() : Date.now(), kind: 'checkpoint' };
        this.takeCheckpoint(barrier, this.outputOnlyCapture(barrier) !== undefined);
      }
      this.completeCopy();
      this.listener.subtaskEnded?.(this);
      return;
    }
    this.state = 'closing';
    void this.closeOperators();
  }

  private async closeOperators(): Promise<void> {
    try {
      for (const op of this.spec.operators) await op.close();
      this.spec.mailbox?.close();
      if (this.state !== 'closing') return;
      this.state = 'finished';
      this.listener.subtaskFinished(this);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Fails the subtask with `error`, once. */
  fail(error: unknown): void {
    if (this.state === 'failed' || this.state === 'cancelled' || this.state === 'finished') return;
    this.state = 'failed';
    this.listener.subtaskFailed(this, error);
  }

  /** Stops processing for good (job cancelled); operators are closed best-effort. */
  async cancel(): Promise<void> {
    if (this.state === 'finished' || this.state === 'cancelled') return;
    const wasFailed = this.state === 'failed';
    this.state = 'cancelled';
    this.mails.length = 0;
    if (wasFailed) return;
    for (const op of this.spec.operators) {
      try {
        await op.close();
      } catch {
        // cancelling: close errors are not the cause of anything
      }
    }
  }

  /** How long checkpoint `id` waited for barrier alignment here (ms), once; undefined when it did not align here. */
  takeAlignment(id: number): number | undefined {
    const ms = this.alignments.get(id);
    if (ms !== undefined) this.alignments.delete(id);
    // Older ones (declined, aborted) go too.
    for (const older of this.alignments.keys()) if (older < id) this.alignments.delete(older);
    return ms;
  }

  /** A two-input operator's watermark per logical input (Flink's currentInput1Watermark, currentInput2Watermark); undefined otherwise. */
  get perInputWatermarks(): [number, number] | undefined {
    const inputs = this.channelInputs;
    const valve = this.valve;
    if (inputs === undefined || valve === undefined) return undefined;
    return [valve.watermarkOf((c) => inputs[c] !== 2), valve.watermarkOf((c) => inputs[c] === 2)];
  }

  /** The combined input watermark of a subtask with inputs (undefined for a source). */
  get inputWatermark(): number | undefined {
    return this.valve?.current;
  }

  /** A live sample of this subtask (see {@link SubtaskSample}); cheap, taken off the hot path when asked. */
  sample(at: number): SubtaskSample {
    let busy = this.busyMs;
    let idle = this.idleMs;
    let blocked = this.backPressuredMs;
    const running = this.state === 'running' || this.state === 'draining';
    if (this.accounting && this.sliceEnd > 0 && running) {
      // The gap since the last slice counts as what it is now.
      const gap = performance.now() - this.sliceEnd;
      if (gap > 0) {
        if (this.endedBlocked || this.blockedWriters > 0) blocked += gap;
        else idle += gap;
      }
    }
    const mailbox = this.spec.mailbox;
    const valve = this.valve;
    const operators = this.spec.sampleOperators?.() ?? this.spec.operators.map((op) => baseOperatorSample(op));
    const head = operators[0];
    const last = operators[operators.length - 1];
    let available = 0;
    let total = 0;
    for (const w of this.writers) {
      total += w.credits;
      available += w.credits - w.inFlight;
    }
    const inputWatermarks = valve ? valve.channelWatermarks() : [];
    const currentInput = valve ? valve.current : (head?.outputWatermark ?? Number.NEGATIVE_INFINITY);
    return {
      vertex: this.spec.vertex ?? 0,
      subtask: this.spec.subtaskIndex,
      task: this.spec.taskName,
      at,
      state: this.state,
      operators,
      busyMs: Math.round(busy),
      idleMs: Math.round(idle),
      backPressuredMs: Math.round(blocked),
      inputWatermarks,
      currentInputWatermark: currentInput,
      currentOutputWatermark: last?.outputWatermark ?? currentInput,
      mailbox: mailbox ? { queued: mailbox.queued, bound: mailbox.bound } : undefined,
      credits: this.writers.length > 0 ? { available, total } : undefined,
      splits: this.source?.splitSamples(),
    };
  }

  /** Counters for the job result and tests. */
  metrics(): SubtaskMetrics {
    const mailbox = this.spec.mailbox;
    let bytes = 0;
    const outputs = this.writers.map((w) => {
      const encoded = w.bytesEncoded();
      bytes += encoded;
      return {
        name: w.name,
        credits: w.credits,
        maxInFlight: w.maxInFlight,
        maxBacklog: w.maxBacklog,
        batchesSent: w.batchesSent,
        recordsOut: w.recordsOut,
        creditStalls: w.creditStalls,
        bytesEncoded: encoded,
      };
    });
    return {
      task: this.spec.taskName,
      subtask: this.spec.subtaskIndex,
      operators: this.spec.operators.map((op) => ({
        name: op.name,
        recordsIn: op.recordsIn,
        recordsOut: op.recordsOut,
        ...(op.counters ? { counters: op.counters() } : {}),
      })),
      mailbox: mailbox ? { bound: mailbox.bound, maxQueued: mailbox.maxQueued, channels: mailbox.channelStats() } : undefined,
      outputs,
      bytesEncoded: bytes,
      backpressureStalls: this.backpressureStalls,
    };
  }
}

/** What every operator can tell of itself: its counters and watermarks (the executor adds state, timers and windows). */
export function baseOperatorSample(op: StreamOperator, id = ''): OperatorSample {
  const sample: OperatorSample = { name: op.name, id, recordsIn: op.recordsIn, recordsOut: op.recordsOut };
  try {
    if (op.counters) sample.counters = op.counters();
    op.sample?.(sample);
  } catch {
    // a sample never fails the job: what could not be read is left out
  }
  return sample;
}

/** Index of the barrier of checkpoint `id` in a batch, or -1. */
function findBarrier(batch: ElementBatch, id: number): number {
  for (let i = 0; i < batch.length;) {
    const tag = batch[i] as number;
    if (tag === TAG_BARRIER && batch[i + 1] === id) return i;
    i += elementWidth(tag);
  }
  return -1;
}
