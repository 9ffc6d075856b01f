//! The task executor of one thread: builds its slots' subtask actors, wires their channels, and runs them cooperatively.

import type { MessagePort } from 'node:worker_threads';
import type { Output, OperatorContext, StreamOperator, TaskReporter } from '../actors/operator.ts';
import { ChainingOutput, FanOutOutput, NoOutput, RecordWriterOutput } from '../actors/outputs.ts';
import { AbstractStreamOperator } from '../actors/operators.ts';
import {
  SubtaskActor,
  type ActorScheduler,
  type PendingSubtaskCheckpoint,
  type SubtaskCheckpoint,
  type SubtaskListener,
} from '../actors/subtask-actor.ts';
import { keyGroupEntry } from '../checkpoint/snapshots.ts';
import { channelStateEntry, restoreChannelState, type RestoredChannelState } from '../checkpoint/channel-state.ts';
import type { KeyedSnapshotProgress, KeyedSnapshotResult } from '../state/keyed-backend.ts';
import { ErrorCodes, WeirError, encodeError, type EncodedError } from '../core/errors.ts';
import type { StateQueryAnswer, SubtaskMetrics, WorkerCallbacks } from '../core/protocol.ts';
import type { OperatorSample, SubtaskSample } from '../core/metrics.ts';
import { baseOperatorSample } from '../actors/subtask-actor.ts';
import type { JobGraph } from '../graph/job-graph.ts';
import { createChannelSelector } from '../graph/partitioners.ts';
import { BoundedMailbox, type InputChannelEndpoint } from '../mailbox/bounded-mailbox.ts';
import { ChannelWriter, type ChannelWriterOwner } from '../mailbox/channel-writer.ts';
import { DEBLOAT_INITIAL_BATCH } from '../mailbox/buffer-debloater.ts';
import { LocalChannel, PortReceiver, PortSender } from '../mailbox/transports.ts';
import { HeapKeyedStateBackend, type KeyedStateBackend } from '../state/keyed-backend.ts';
import { RocksDbKeyedStateBackend } from '../state/rocksdb-backend.ts';
import { defaultRocksDbDir, rocksDbDirPrefix } from '../state/rocksdb-store.ts';
import { keyGroupRangeForSubtask } from '../state/key-groups.ts';
import { HeapOperatorStateStore } from '../state/operator-state.ts';
import { SystemProcessingTimeService, type CancelTimer, type ProcessingTimeService, type RuntimeClock } from '../time/processing-time.ts';
import { Packr } from 'msgpackr';
import { TAG_RECORD, TAG_TIMED_RECORD, elementWidth, type ElementBatch } from '../core/elements.ts';
import type { Barrier } from '../checkpoint/barrier-aligner.ts';
import type { OperatorSubtaskState, RestoredOperatorState } from '../checkpoint/snapshots.ts';
import type { KeyGroupStateSnapshot } from '../state/snapshot-format.ts';
import type { HeapInternalTimerService, TimerKeyGroupSnapshot } from '../state/timer-service.ts';
import type { ExecutionPlan, PlacedSubtask } from './execution-plan.ts';

/** Where an executor reports to (the coordinator, directly or through comlink). */
/** Where an executor reports to: the coordinator's callbacks, called directly (local) or through comlink (threads). */
export type ExecutorReporter = WorkerCallbacks;

/** What one operator of a subtask restores: its share of the checkpoint, key groups possibly still encoded. */
export type RestoredOperator = RestoredOperatorState & {
  /** Key groups of this subtask as the checkpoint stored them (msgpack), decoded when the subtask is built. */
  encodedKeyGroups?: { keyGroup: number; bytes: Uint8Array }[];
};

/** Restored state of a deployment: per `vertex/subtask`, per operator id. */
export type DeploymentRestore = Record<string, Record<string, RestoredOperator>>;

const snapshotPackr = new Packr({ useRecords: true });

/**
 * A keyed backend's bytes, estimated when sampled: a backend that knows (RocksDB's own estimate)
 * says so; otherwise entries × an average entry size.
 */
function estimateStateBytes(backend: KeyedStateBackend, keys: number): number {
  const own = (backend as { estimateBytes?(): number | undefined }).estimateBytes?.();
  if (own !== undefined) return own;
  return keys * ESTIMATED_ENTRY_BYTES;
}

/** Average bytes of a keyed state entry (key, namespace, value, map overhead) when the backend has no estimate of its own. */
const ESTIMATED_ENTRY_BYTES = 64;

/** Longest a single actor runs before the thread yields to message delivery. */
const SLICE_MS = 2;

/** A subtask of a simulated executor, as the simulation sees it. */
export interface SimulatedSubtask {
  /** Vertex index in the job graph. */
  vertex: number;
  subtask: number;
  /** The chain's name (operators joined by ` -> `). */
  task: string;
  actor: SubtaskActor;
}

/**
 * A deterministic simulation driving an executor (weir/testing): it picks which ready subtask runs
 * and for how many records (the executor arms no `setImmediate` rounds), its clock holds the
 * buffer-timeout flush and deferred steps, and its hooks inject faults at checkpoint phases.
 */
export interface ExecutorSimulation {
  clock: RuntimeClock;
  /** A subtask is about to snapshot checkpoint `checkpointId`; throwing fails the subtask there. */
  beforeSnapshot?(subtask: SimulatedSubtask, checkpointId: number): void;
  /** A subtask took its part of checkpoint `checkpointId`; `'decline'` declines it instead of acknowledging. */
  acknowledge?(subtask: SimulatedSubtask, checkpointId: number): 'acknowledge' | 'decline';
}

/**
 * Hosts the subtask actors of one or more slots on the current thread.
 *
 * Threading model: everything runs on the owning thread. Actors are scheduled cooperatively:
 * a ready queue is served in rounds from `setImmediate`, each actor for at most a short slice,
 * so MessagePort deliveries (batches, credits) interleave with processing. A partial batch is
 * flushed by one timer per executor after the buffer timeout.
 *
 * Life cycle: deployed (actors built, channels wired) → started (operators opened, running) →
 * done (every actor finished) | cancelled.
 */
export class TaskExecutor implements ActorScheduler, SubtaskListener {
  private readonly actors: SubtaskActor[] = [];
  private readonly placement = new Map<SubtaskActor, PlacedSubtask>();
  private ready: SubtaskActor[] = [];
  private armed = false;
  private readonly dirty: ChannelWriter[] = [];
  private flushTimer: CancelTimer | undefined;
  private readonly localChannels = new Map<number, LocalChannel>();
  private readonly senders: PortSender[] = [];
  private readonly receivers: PortReceiver[] = [];
  private finishedCount = 0;
  /** Keyed state backends of this executor's subtasks: readied before operators open, disposed at the end. */
  private readonly backends: KeyedStateBackend[] = [];
  private cancelled = false;
  /** Settles when every backend disposed so far has closed. */
  private disposal: Promise<void> = Promise.resolve();
  /** Live state queries per `vertex/subtask` hosted here (see {@link queryState}). */
  private readonly queries = new Map<string, (operatorId: string, stateName: string, key: unknown) => Promise<StateQueryAnswer>>();
  private resolveDone!: () => void;
  /** Resolves when every actor of this executor has finished. */
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));

  constructor(
    private readonly graph: JobGraph,
    private readonly plan: ExecutionPlan,
    private readonly reporter: ExecutorReporter,
    /** Remote channel ends by channel id; a channel with no port here is in-thread. */
    private readonly ports: Map<number, MessagePort> = new Map(),
    /** The clock and timers of this thread (a manual one in tests). */
    private readonly processingTime: ProcessingTimeService = new SystemProcessingTimeService(),
    /** `metrics: false` turns off the subtasks' busy/idle/backpressure time accounting; `simulation`: see {@link ExecutorSimulation}. */
    private readonly options: { metrics?: boolean; simulation?: ExecutorSimulation } = {},
  ) {}

  /** Every subtask here (a simulation's view). */
  get subtasks(): SimulatedSubtask[] {
    return this.actors.map((actor) => {
      const placed = this.placement.get(actor) as PlacedSubtask;
      return { vertex: placed.vertex, subtask: placed.subtask, task: actor.spec.taskName, actor };
    });
  }

  /** The subtasks waiting for a run step, in the order they asked (a simulation's view). */
  get readySubtasks(): readonly SubtaskActor[] {
    return this.ready;
  }

  /** Runs one ready subtask for at most `records` records (simulation only: the executor's own rounds are off). */
  step(actor: SubtaskActor, records: number): void {
    const i = this.ready.indexOf(actor);
    if (i < 0 || this.cancelled) return;
    this.ready.splice(i, 1);
    actor.queued = false;
    if (!actor.runnable) return;
    actor.runRecords(records);
    if (actor.runnable) this.schedule(actor);
  }

  /** A live sample of every subtask here (see {@link SubtaskSample}); cheap, off the hot path. */
  sample(): SubtaskSample[] {
    const at = Date.now();
    return this.actors.map((actor) => actor.sample(at));
  }

  /** Number of subtasks hosted. */
  get subtaskCount(): number {
    return this.actors.length;
  }

  /** Builds the actors of the given placed subtasks, restoring their state when given. */
  deploy(subtasks: readonly PlacedSubtask[], restore?: DeploymentRestore): void {
    for (const placed of subtasks) this.actors.push(this.buildActor(placed, restore?.[`${placed.vertex}/${placed.subtask}`]));
    if (this.actors.length === 0) this.resolveDone();
  }

  /**
   * Reads one key of keyed state `stateName` of operator `operatorId` in subtask `vertex/subtask`,
   * as a mail of that subtask: between records, at a point the next checkpoint would see.
   */
  queryState(vertex: number, subtask: number, operatorId: string, stateName: string, key: unknown): Promise<StateQueryAnswer> {
    const query = this.queries.get(`${vertex}/${subtask}`);
    if (!query)
      return Promise.resolve({ ok: false, code: ErrorCodes.INTERNAL, message: `subtask ${vertex}/${subtask} does not run in this thread` });
    return query(operatorId, stateName, key);
  }

  /** Starts a checkpoint on every subtask here (sources inject barriers; ended subtasks answer directly). */
  triggerCheckpoint(barrier: Barrier): void {
    for (const actor of this.actors) actor.triggerCheckpoint(barrier);
  }

  /** A checkpoint completed: every subtask here commits. */
  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    await Promise.all(this.actors.map((a) => a.notifyCheckpointComplete(checkpointId)));
  }

  /** A checkpoint was aborted. */
  abortCheckpoint(checkpointId: number): void {
    for (const actor of this.actors) actor.abortCheckpoint(checkpointId);
  }

  /** Closes every ended subtask (after the final checkpoint). */
  finishAll(): void {
    for (const actor of this.actors) actor.finish();
  }

  /** Opens every actor's operators and starts processing. */
  async start(): Promise<void> {
    try {
      // A backend on disk writes restored state and loads the keys of restored timers first.
      await Promise.all(this.backends.map((b) => b.ready?.()));
    } catch (error) {
      for (const actor of this.actors) actor.fail(error);
      return;
    }
    await Promise.all(
      this.actors.map(async (actor) => {
        try {
          await actor.open();
        } catch (error) {
          actor.fail(error);
        }
      }),
    );
  }

  /** Stops every actor and releases channels. */
  async cancel(): Promise<void> {
    if (this.cancelled) return;
    this.cancelled = true;
    this.cancelFlush();
    this.ready = [];
    await Promise.all(this.actors.map((a) => a.cancel()));
    await this.dispose();
  }

  /**
   * Closes every port, cancels every processing-time timer and disposes the state backends;
   * resolves once a backend on disk has closed its database and removed its directory.
   */
  dispose(): Promise<void> {
    this.cancelFlush();
    const closing = this.backends.splice(0).map((b) => b.dispose());
    if (this.processingTime instanceof SystemProcessingTimeService) this.processingTime.shutdown();
    for (const s of this.senders) s.dispose();
    for (const r of this.receivers) r.close();
    // A directory that could not be removed is left to the job's sweep.
    this.disposal = Promise.all([this.disposal, ...closing]).then(
      () => undefined,
      () => undefined,
    );
    return this.disposal;
  }

  // ---- ActorScheduler

  schedule(actor: SubtaskActor): void {
    if (actor.queued || this.cancelled) return;
    actor.queued = true;
    this.ready.push(actor);
    if (this.options.simulation) return;
    if (!this.armed) {
      this.armed = true;
      setImmediate(this.runRound);
    }
  }

  registerDirty(writer: ChannelWriter): void {
    this.dirty.push(writer);
    if (this.flushTimer === undefined) {
      const simulation = this.options.simulation;
      if (simulation) this.flushTimer = simulation.clock.setTimer(this.graph.config.bufferTimeoutMs, this.flushDirty, 'buffer timeout');
      else {
        const handle = setTimeout(this.flushDirty, this.graph.config.bufferTimeoutMs);
        this.flushTimer = () => clearTimeout(handle);
      }
    }
  }

  private cancelFlush(): void {
    this.flushTimer?.();
    this.flushTimer = undefined;
  }

  private readonly flushDirty = (): void => {
    this.flushTimer = undefined;
    const writers = this.dirty.splice(0);
    try {
      for (const writer of writers) {
        writer.dirty = false;
        writer.flush();
      }
    } catch (error) {
      this.reporter.subtaskFailed(encodeError(error));
    }
  };

  private readonly runRound = (): void => {
    this.armed = false;
    const round = this.ready;
    this.ready = [];
    for (const actor of round) {
      actor.queued = false;
      if (this.cancelled) return;
      if (!actor.runnable) continue;
      actor.runSlice(performance.now() + SLICE_MS);
      if (actor.runnable) this.schedule(actor);
    }
  };

  // ---- SubtaskListener

  subtaskFinished(actor: SubtaskActor): void {
    // The subtask's last sample goes with its counters: the job's final sample after the end.
    let sample: SubtaskSample | undefined;
    try {
      sample = actor.sample(Date.now());
    } catch {
      // a sample never fails the job
    }
    this.reporter.subtaskFinished({ ...actor.metrics(), sample });
    if (++this.finishedCount === this.actors.length) {
      void this.dispose();
      this.resolveDone();
    }
  }

  subtaskFailed(_actor: SubtaskActor, error: unknown): void {
    this.reporter.subtaskFailed(encodeError(error));
  }

  checkpointAcknowledged(actor: SubtaskActor, checkpointId: number, state: SubtaskCheckpoint): void {
    const placed = this.placement.get(actor) as PlacedSubtask;
    const simulation = this.options.simulation;
    if (simulation?.acknowledge) {
      const view = { vertex: placed.vertex, subtask: placed.subtask, task: actor.spec.taskName, actor };
      if (simulation.acknowledge(view, checkpointId) === 'decline') {
        this.reporter.checkpointDeclined(placed.vertex, placed.subtask, checkpointId, 'declined by the simulation (fault)');
        return;
      }
    }
    this.reporter.checkpointAcknowledged(placed.vertex, placed.subtask, checkpointId, state.operators, actor.takeAlignment(checkpointId));
  }

  checkpointDeclined(actor: SubtaskActor, checkpointId: number, reason: string): void {
    const placed = this.placement.get(actor) as PlacedSubtask;
    this.reporter.checkpointDeclined(placed.vertex, placed.subtask, checkpointId, reason);
  }

  subtaskEnded(actor: SubtaskActor): void {
    const placed = this.placement.get(actor) as PlacedSubtask;
    this.reporter.subtaskEnded(placed.vertex, placed.subtask);
  }

  // ---- building

  private buildActor(placed: PlacedSubtask, restored?: Record<string, RestoredOperator>): SubtaskActor {
    const graph = this.graph;
    const config = graph.config;
    const vertex = graph.vertices[placed.vertex];
    const s = placed.subtask;
    const nodes = vertex.nodes.map((id) => graph.streamGraph.node(id));

    // The actor is created last; writers and the mailbox reach it through this late-bound owner.
    let actor: SubtaskActor | undefined;
    const owner: ChannelWriterOwner = {
      onWriterBlocked: () => actor?.onWriterBlocked(),
      onWriterAvailable: () => actor?.onWriterAvailable(),
      onWriterDirty: (w) => this.registerDirty(w),
      onWriterFailed: (w, error) => (actor ? actor.onWriterFailed(w, error) : this.reporter.subtaskFailed(encodeError(error))),
    };

    const operators = new Map<number, StreamOperator>();
    for (const node of nodes) operators.set(node.id, node.createOperator(graph.nodeNames[node.id]));

    const recordWriters: RecordWriterOutput[] = [];
    const outputs = new Map<number, Output>();
    for (let k = nodes.length - 1; k >= 0; k--) {
      const node = nodes[k];
      const main: Output[] = [];
      const side = new Map<string, Output[]>();
      const add = (output: Output, tag: string | undefined) => {
        if (tag === undefined) main.push(output);
        else side.set(tag, [...(side.get(tag) ?? []), output]);
      };
      for (const child of vertex.chainedOutputs.get(node.id) ?? []) {
        const next = operators.get(child.to) as StreamOperator;
        // Built-in operators are outputs themselves (one call per hop); others get a ChainingOutput.
        add(next instanceof AbstractStreamOperator ? next : new ChainingOutput(next), child.sideOutputTag);
      }
      for (const edge of vertex.networkOutputs.get(node.id) ?? []) {
        const channels = this.plan.outputChannels(edge, s);
        const writers = channels.map((c) => {
          const writerConfig = {
            batchSize: config.batchSize,
            credits: config.credits,
            bufferTimeoutMs: config.bufferTimeoutMs,
            // Debloating: batches start small; the receiver's first measurement sizes them.
            initialBatchSize: config.bufferDebloatTargetMs > 0 ? DEBLOAT_INITIAL_BATCH : undefined,
          };
          const port = this.ports.get(c.id);
          if (!port) {
            const local = this.localChannel(c.id);
            const writer = new ChannelWriter(c.outIndex, c.name, local, writerConfig, owner);
            local.attachWriter(writer);
            return writer;
          }
          const sender = new PortSender(port, { operator: graph.nodeNames[node.id], subtask: s, edge: edge.name });
          this.senders.push(sender);
          const writer = new ChannelWriter(c.outIndex, c.name, sender, writerConfig, owner);
          sender.attach(writer);
          return writer;
        });
        const selector = createChannelSelector(edge.partitioner, writers.length, s, config.maxParallelism, edge.keySelector);
        const rw = new RecordWriterOutput(writers, selector, graph.nodeNames[node.id], s);
        recordWriters.push(rw);
        add(rw, edge.sideOutputTag);
      }
      let output: Output;
      if (main.length === 0 && side.size === 0) output = new NoOutput();
      else if (main.length === 1 && side.size === 0) output = main[0];
      else output = new FanOutOutput(main, side);
      outputs.set(node.id, output);
    }

    const time = this.processingTime;
    const processingTime = {
      now: () => time.now(),
      registerTimer: (at: number, callback: (t: number) => void) => time.registerTimer(at, (t) => actor?.enqueueMail(() => callback(t))),
    };
    const reporter: TaskReporter = {
      collect: (id, subtask, records, commitKey, recovered) => this.reporter.collect(id, subtask, records, commitKey, recovered),
    };
    const runtimes: {
      id: string;
      operator: StreamOperator;
      output: Output;
      backend(): KeyedStateBackend | undefined;
      operatorState(): HeapOperatorStateStore | undefined;
      timers: Map<string, HeapInternalTimerService<unknown, unknown>>;
    }[] = [];
    for (const node of nodes) {
      const parallelism = graph.nodeParallelism[node.id];
      let backend: KeyedStateBackend | undefined;
      let operatorState: HeapOperatorStateStore | undefined;
      const name = graph.nodeNames[node.id];
      const operatorId = graph.operatorIds[node.id];
      const restoredOp = restored?.[operatorId];
      const timers = new Map<string, HeapInternalTimerService<unknown, unknown>>();
      const context: OperatorContext = {
        operatorName: name,
        operatorId,
        taskName: vertex.name,
        subtaskIndex: s,
        parallelism,
        maxParallelism: config.maxParallelism,
        keyed: node.keyed,
        reporter,
        processingTime,
        autoWatermarkIntervalMs: config.autoWatermarkIntervalMs,
        restoredFunctionStates: restoredOp?.functions,
        registerTimerService: (timerName, service) => {
          timers.set(timerName, service);
          for (const t of restoredOp?.timers[timerName] ?? []) service.restoreKeyGroup(t.keyGroup, t);
        },
        operatorStateStore: () => {
          if (!operatorState) {
            operatorState = new HeapOperatorStateStore(name);
            if (restoredOp?.operator) operatorState.restore(restoredOp.operator);
          }
          return operatorState;
        },
        keyedBackend: () => {
          if (!node.keyed) {
            throw new WeirError(`operator '${name}' does not read a keyed stream and has no keyed state: use keyBy() first`, {
              code: ErrorCodes.STATE_ACCESS,
              domain: 'user',
              operator: name,
              subtask: s,
            });
          }
          if (backend) return backend;
          const range = keyGroupRangeForSubtask(config.maxParallelism, parallelism, s);
          // TTL follows the subtask's processing-time clock (a manual clock in tests).
          const ttlTimeProvider = { now: () => time.now() };
          const chosen = config.stateBackend;
          backend =
            chosen?.kind === 'rocksdb'
              ? new RocksDbKeyedStateBackend(config.maxParallelism, range, name, {
                  ttlTimeProvider,
                  dir: chosen.dir ?? defaultRocksDbDir(),
                  dirName: `${rocksDbDirPrefix(config.jobName)}${operatorId.slice(0, 12)}-${s}`,
                  cacheKeys: chosen.cacheKeys,
                })
              : new HeapKeyedStateBackend(config.maxParallelism, range, name, { ttlTimeProvider });
          this.backends.push(backend);
          for (const kg of restoredOp?.keyed ?? []) backend.restoreKeyGroup(kg.keyGroup, kg);
          for (const kg of restoredOp?.encodedKeyGroups ?? [])
            backend.restoreKeyGroup(kg.keyGroup, snapshotPackr.unpack(kg.bytes) as KeyGroupStateSnapshot);
          return backend;
        },
      };
      // Restored state is loaded now, so a checkpoint keeps it even if the operator never touches it.
      if (restoredOp && node.keyed && (restoredOp.keyed.length > 0 || (restoredOp.encodedKeyGroups?.length ?? 0) > 0))
        context.keyedBackend();
      if (restoredOp?.operator) context.operatorStateStore();
      const operator = operators.get(node.id) as StreamOperator;
      operator.setup(context, outputs.get(node.id) as Output);
      runtimes.push({
        id: operatorId,
        operator,
        output: outputs.get(node.id) as Output,
        backend: () => backend,
        operatorState: () => operatorState,
        timers,
      });
    }

    const simulation = this.options.simulation;
    const snapshot = (checkpointId: number): SubtaskCheckpoint | PendingSubtaskCheckpoint => {
      if (simulation?.beforeSnapshot && actor)
        simulation.beforeSnapshot({ vertex: placed.vertex, subtask: s, task: vertex.name, actor }, checkpointId);
      // Head first: what an operator flushes may reach a chained operator after it.
      for (const rt of runtimes) rt.operator.prepareSnapshotPreBarrier?.(checkpointId);
      const encoded: Record<string, Uint8Array> = {};
      const keyed: { id: string; progress: KeyedSnapshotProgress }[] = [];
      for (const rt of runtimes) {
        const state: OperatorSubtaskState = {};
        const backend = rt.backend();
        // Keyed state: copy-on-write per key group; the rest is small and copied now.
        // What a plan compares with a new job's descriptors: each state's kind and TTL.
        if (backend) state.states = (backend as HeapKeyedStateBackend).describeStates();
        if (backend)
          keyed.push({
            id: rt.id,
            progress: (backend as HeapKeyedStateBackend).beginSnapshot((kg) => new Uint8Array(snapshotPackr.pack(kg))),
          });
        if (rt.timers.size > 0) {
          state.timers = {};
          for (const [timerName, service] of rt.timers) {
            const list: TimerKeyGroupSnapshot[] = [];
            for (let kg = service.keyGroupRange.start; kg <= service.keyGroupRange.end; kg++) {
              const t = service.snapshotKeyGroup(kg);
              if (t.eventTime.timestamps.length > 0 || t.processingTime.timestamps.length > 0) list.push(t);
            }
            state.timers[timerName] = list;
          }
        }
        const operatorState = rt.operatorState();
        if (operatorState) state.operator = operatorState.snapshot();
        const fn = rt.operator.snapshotFunctionState?.(checkpointId);
        if (fn !== undefined) state.function = fn;
        // Encoding is the copy: later record processing cannot change what the checkpoint holds.
        // (A copy into an ArrayBuffer of its own: msgpackr reuses its buffer, and the bytes may be transferred.)
        encoded[rt.id] = new Uint8Array(snapshotPackr.pack(state));
      }
      if (keyed.length === 0) return { operators: encoded };
      return {
        step: (deadline: number) => {
          for (const k of keyed) if (!k.progress.step(deadline)) return false;
          return true;
        },
        result: () => {
          const add = (id: string, { groups, blobs }: KeyedSnapshotResult): void =>
            // One entry per key group that holds state: storage writes each as a file of its own.
            groups.forEach((kg, i) => (encoded[keyGroupEntry(id, kg)] = blobs[i]));
          const pending: Promise<void>[] = [];
          for (const k of keyed) {
            const r = k.progress.result();
            // A RocksDB backend finishes its scan of the disk asynchronously.
            if (r instanceof Promise) pending.push(r.then((done) => add(k.id, done)));
            else add(k.id, r);
          }
          if (pending.length === 0) return { operators: encoded };
          return Promise.all(pending).then(() => ({ operators: encoded }));
        },
      };
    };

    /** The chain's operator samples: counters, watermarks, keyed state, timers, and what the operator adds (windows). */
    const sampleOperators = (): OperatorSample[] => {
      const samples: OperatorSample[] = [];
      let input: number | undefined = actor?.inputWatermark;
      const perInput = actor?.perInputWatermarks;
      for (const rt of runtimes) {
        const sample = baseOperatorSample(rt.operator, rt.id);
        // The head of a two-input task sees its two logical inputs apart, as Flink's currentInput1/2Watermark.
        if (perInput !== undefined && samples.length === 0) sample.inputWatermarks = perInput;
        else if (input !== undefined) sample.inputWatermarks = [input];
        const out = (rt.output as { lastWatermark?: number }).lastWatermark;
        if (sample.outputWatermark === undefined && out !== undefined && !(rt.output instanceof NoOutput)) sample.outputWatermark = out;
        input = sample.outputWatermark;
        const backend = rt.backend();
        if (backend) {
          try {
            // RocksDB: the entries of the keys cached on the heap (the rows on disk are not counted yet).
            const keys = backend.keyCount();
            sample.state = { keys, bytes: estimateStateBytes(backend, keys) };
          } catch {
            // a disposed backend: no state figures
          }
        }
        if (rt.timers.size > 0) {
          let pending = 0;
          let earliest: number | undefined;
          for (const service of rt.timers.values()) {
            pending += service.numEventTimeTimers();
            const next = service.nextEventTime();
            if (next !== undefined && (earliest === undefined || next < earliest)) earliest = next;
          }
          let earliestKeys = 0;
          if (earliest !== undefined) for (const service of rt.timers.values()) earliestKeys += service.eventTimersAt(earliest);
          sample.timers = earliest === undefined ? { pending } : { pending, earliest, earliestKeys };
        }
        samples.push(sample);
      }
      return samples;
    };

    let mailbox: BoundedMailbox | undefined;
    const inputs = this.plan.inputChannels(vertex.id, s);
    if (inputs.length > 0) {
      mailbox = new BoundedMailbox(config.credits, () => actor?.onInput());
      for (const c of inputs) {
        const endpoint = this.receiverFor(c.id);
        const index = mailbox.addChannel(c.name, endpoint);
        if (endpoint instanceof LocalChannel || endpoint instanceof PortReceiver) endpoint.connect(mailbox, index);
      }
    }

    // In-flight data of an unaligned checkpoint, on the same channels as when it was taken.
    const headId = graph.operatorIds[nodes[0].id];
    const storedChannels = restored?.[headId]?.channels;
    let restoredChannels: RestoredChannelState | undefined;
    if (storedChannels) {
      restoredChannels = restoreChannelState(
        storedChannels,
        inputs.map((c) => c.name),
        recordWriters.flatMap((rw) => rw.writers.map((w) => w.name)),
        { operator: vertex.name, subtask: s },
      );
    }
    const checkpointing = config.checkpointing;

    actor = new SubtaskActor(
      {
        taskName: vertex.name,
        subtaskIndex: s,
        operators: nodes.map((n) => operators.get(n.id) as StreamOperator),
        mailbox,
        recordWriters,
        batchSize: config.batchSize,
        channelInputs: inputs.map((c) => c.edge.inputIndex),
        prepareInput: config.stateBackend?.kind === 'rocksdb' && nodes[0].keyed ? this.batchKeyLoader(runtimes[0]) : undefined,
        checkpointing: checkpointing
          ? {
              mode: checkpointing.mode,
              snapshot,
              unaligned:
                checkpointing.unaligned && checkpointing.mode === 'exactly-once'
                  ? { alignedTimeoutMs: checkpointing.alignedCheckpointTimeoutMs ?? 0, channelStateEntry: channelStateEntry(headId) }
                  : undefined,
            }
          : undefined,
        restoredChannels,
        vertex: vertex.id,
        timeAccounting: this.options.metrics !== false,
        sampleOperators,
        debloat:
          config.bufferDebloatTargetMs > 0
            ? { targetMs: config.bufferDebloatTargetMs, maxBatch: config.batchSize, credits: config.credits }
            : undefined,
        simulation: simulation ? { clock: simulation.clock } : undefined,
      },
      this,
      this,
    );
    this.queries.set(`${placed.vertex}/${s}`, (operatorId, stateName, key) =>
      queryKeyedState(actor as SubtaskActor, runtimes, s, operatorId, stateName, key),
    );
    this.placement.set(actor, placed);
    return actor;
  }

  /**
   * Loads the keys of a batch's records into the head's backend before they are processed. A key
   * selector that throws is skipped here: processing the record reports it, naming the operator.
   */
  private batchKeyLoader(head: { operator: StreamOperator; backend(): KeyedStateBackend | undefined }) {
    return (batch: ElementBatch, from: number, input: 1 | 2): void | Promise<void> => {
      const backend = head.backend();
      if (backend === undefined) return;
      const selector = head.operator.inputKeySelector?.(input);
      if (selector === undefined) {
        // The broadcast side of a keyed broadcast function may visit every key (applyToKeyedState).
        const all = backend as { needsLoadAll?: boolean; loadAll?(): Promise<void> };
        return input === 2 && all.needsLoadAll ? all.loadAll?.() : undefined;
      }
      const keys: unknown[] = [];
      for (let i = from; i < batch.length;) {
        const tag = batch[i] as number;
        if (tag === TAG_RECORD || tag === TAG_TIMED_RECORD) {
          try {
            keys.push(selector(batch[i + 1]));
          } catch {
            // reported when the record is processed
          }
        }
        i += elementWidth(tag);
      }
      return keys.length === 0 ? undefined : backend.prefetch(keys);
    };
  }

  private localChannel(id: number): LocalChannel {
    let channel = this.localChannels.get(id);
    if (!channel) this.localChannels.set(id, (channel = new LocalChannel()));
    return channel;
  }

  private receiverFor(channel: number): InputChannelEndpoint {
    const port = this.ports.get(channel);
    if (!port) return this.localChannel(channel);
    const receiver = new PortReceiver(port);
    this.receivers.push(receiver);
    return receiver;
  }
}

/** Subtask states whose mails still run (see SubtaskActor.enqueueMail). */
const TAKES_MAIL: ReadonlySet<string> = new Set(['running', 'opening', 'draining', 'ended']);

/** Reads after a disk read retried this often when write-backs keep changing the key's row. */
const QUERY_RETRIES = 5;

/** A live state query in one subtask: validated, then read by a mail of its actor (twice when the key is read from disk first). */
function queryKeyedState(
  actor: SubtaskActor,
  runtimes: readonly { id: string; operator: StreamOperator; backend(): KeyedStateBackend | undefined }[],
  subtask: number,
  operatorId: string,
  stateName: string,
  key: unknown,
): Promise<StateQueryAnswer> {
  const refuse = (code: string, message: string, known?: string[]): StateQueryAnswer => ({
    ok: false,
    code,
    message,
    ...(known ? { known } : {}),
  });
  const rt = runtimes.find((r) => r.id === operatorId);
  if (!rt) return Promise.resolve(refuse(ErrorCodes.INTERNAL, `operator '${operatorId}' does not run in subtask ${subtask} here`));
  return new Promise<StateQueryAnswer>((resolve) => {
    const read = (attempt: number): void => {
      if (!TAKES_MAIL.has(actor.state)) {
        resolve(refuse(ErrorCodes.JOB_NOT_RUNNING, `subtask ${subtask} of operator '${rt.operator.name}' is ${actor.state}, not running`));
        return;
      }
      actor.enqueueMail(() => {
        try {
          const backend = rt.backend() as HeapKeyedStateBackend | undefined;
          const known = backend?.knownStateNames().sort() ?? [];
          if (!backend || !known.includes(stateName)) {
            resolve(
              refuse(
                ErrorCodes.STATE_ACCESS,
                `operator '${operatorId}' has no keyed state '${stateName}'; its keyed states: ${known.length > 0 ? known.map((n) => `'${n}'`).join(', ') : '(none registered yet)'}`,
                known,
              ),
            );
            return;
          }
          const kind = backend.describeStates().find((d) => d.name === stateName)?.kind ?? 'value';
          const answer = (entries: {
            keyGroup: number;
            found: boolean;
            value?: unknown;
            namespaces?: { namespace: unknown; value: unknown }[];
          }) => resolve({ ok: true, kind, subtask, ...entries });
          const range = backend.keyGroupRange;
          const q = backend.queryKey(stateName, key);
          if ('done' in q) {
            if (q.done.keyGroup < range.start || q.done.keyGroup > range.end)
              resolve(
                refuse(
                  ErrorCodes.INTERNAL,
                  `key group ${q.done.keyGroup} is not owned by subtask ${subtask} (${range.start}..${range.end})`,
                ),
              );
            else answer(q.done);
            return;
          }
          q.pending.then(
            (finish) => {
              if (!TAKES_MAIL.has(actor.state)) {
                resolve(
                  refuse(ErrorCodes.JOB_NOT_RUNNING, `subtask ${subtask} of operator '${rt.operator.name}' is ${actor.state}, not running`),
                );
                return;
              }
              actor.enqueueMail(() => {
                try {
                  const entries = finish();
                  if (entries) answer(entries);
                  else if (attempt < QUERY_RETRIES) read(attempt + 1);
                  else resolve(refuse(ErrorCodes.STATE_ACCESS, `the state of this key kept changing on disk; try again`));
                } catch (error) {
                  resolve(refuse(ErrorCodes.STATE_ACCESS, (error as Error).message));
                }
              });
            },
            (error: unknown) => resolve(refuse(ErrorCodes.STATE_ACCESS, `reading the key from disk failed: ${(error as Error)?.message}`)),
          );
        } catch (error) {
          resolve(refuse(ErrorCodes.STATE_ACCESS, (error as Error).message));
        }
      });
    };
    read(0);
  });
}
