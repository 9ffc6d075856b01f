//! simulateJob: a user's job run on one thread under a seeded scheduler and a virtual clock, faults injected by name, the same seed giving the same run.

import { describeJobEvent, type JobEvent, type JobResult } from '../actors/job-master.ts';
import type { SubtaskActor } from '../actors/subtask-actor.ts';
import type { CompletedCheckpoint } from '../checkpoint/coordinator.ts';
import { channelStateEntry } from '../checkpoint/channel-state.ts';
import { ErrorCodes, WeirError } from '../core/errors.ts';
import type { JobParams } from '../core/protocol.ts';
import { isJobDefinition, type JobDefinition } from '../graph/job-definition.ts';
import { loadJobDefinition, toModuleUrl } from '../scheduler/job-loader.ts';
import { startJob } from '../scheduler/execute.ts';
import type { LocalSimulation } from '../scheduler/local-runner.ts';
import type { SimulatedSubtask, TaskExecutor } from '../scheduler/task-executor.ts';
import { SeededRandom } from './prng.ts';
import { SIMULATION_EPOCH, VirtualClock, type VirtualTimer } from './sim-clock.ts';

/** Where in a checkpoint a subtask is killed. */
export type CheckpointPhase = 'before-snapshot' | 'after-ack' | 'before-commit';

/**
 * A fault to inject, by name. `task` picks the subtasks whose chain name contains it (e.g.
 * `'Checker'`), `subtask` one of them (default 0). Each fault fires at most once: a kill at a
 * record count in the attempt it names (default the first; records count from each attempt's
 * start), the others at the checkpoint they name (ids keep growing across restarts).
 */
export type SimulatedFault =
  /** The subtask fails once its head has taken `atRecord` records (a source: emitted). */
  | { kind: 'kill'; task: string; subtask?: number; atRecord: number; attempt?: number }
  /** The subtask fails at a phase of checkpoint `checkpoint`. */
  | { kind: 'kill'; task: string; subtask?: number; checkpoint: number; phase: CheckpointPhase }
  /** The subtask declines checkpoint `checkpoint` (default: the first subtask to acknowledge it). */
  | { kind: 'fail-checkpoint'; checkpoint: number; task?: string; subtask?: number }
  /** Once checkpoint `checkpoint` committed: stop with a savepoint and go on from it at `parallelism`. */
  | { kind: 'rescale'; checkpoint: number; parallelism: number };

/** How to simulate a job. */
export interface SimulateOptions {
  /** Seeds every choice of the run; the same seed gives the same run. */
  seed: number;
  /** Default parallelism of the job (as `--parallelism`). */
  parallelism?: number;
  /** The job's parameters (as `--param`). */
  params?: JobParams;
  /** Faults to inject. */
  faults?: readonly SimulatedFault[];
  /** Scheduler steps before the run is given up as not ending (default 200 000). */
  maxSteps?: number;
  /** Records per batch; drawn from the seed when not given. */
  batchSize?: number;
  /** Credits per channel; drawn from the seed when not given. */
  credits?: number;
  /** Buffer timeout in virtual ms; drawn from the seed when not given. */
  bufferTimeoutMs?: number;
  /** Most records one scheduler step may process; drawn from the seed when not given. */
  maxRecordsPerStep?: number;
  /**
   * Virtual time a record costs (ms; whole milliseconds pass as the work adds up): time moves
   * with the work, so timers (checkpoint interval, processing-time timers) come due as in a real
   * run; 0 moves time only by jumps to the next timer. Drawn from the seed when not given.
   */
  msPerRecord?: number;
  /** Which ready subtask runs: `uniform` (any, equally likely) or `priority` (PCT-style); drawn from the seed when not given. */
  scheduling?: 'uniform' | 'priority';
  /** Keep every step in the trace (default true); false keeps only checkpoints, faults and restarts. */
  traceSteps?: boolean;
  /**
   * Told of each completed checkpoint (before its commit), on the simulation's thread: a test arms
   * its own faults from here, as the chaos suite does after checkpoint 2.
   */
  onCheckpoint?(checkpoint: SimulatedCheckpoint): void;
}

/** A checkpoint that completed in the simulation. */
export interface SimulatedCheckpoint {
  id: number;
  kind: 'checkpoint' | 'savepoint';
  /** The run (1, then 2 after a rescale) and attempt it completed in. */
  run: number;
  attempt: number;
  /** Virtual ms since the start of the simulation. */
  at: number;
  /** Whether it holds in-flight data (an unaligned checkpoint whose barriers overtook records). */
  inFlight: boolean;
}

/** A restart in the simulation. */
export interface SimulatedRestart {
  run: number;
  /** The attempt that failed. */
  attempt: number;
  /** Its error's first line. */
  error: string;
  /** What came next, as the job master tells it. */
  next: string;
}

/** What a simulated run did. */
export interface SimulationResult {
  seed: number;
  /**
   * Records of each `collect` sink, in the order the job delivered them (across a rescale: the
   * first run's, then the second's); a run that failed delivers none.
   */
  outputs: Record<string, unknown[]>;
  checkpoints: SimulatedCheckpoint[];
  /** Checkpoints that failed, with the reason. */
  failedCheckpoints: { id: number; reason: string }[];
  restarts: SimulatedRestart[];
  /** One line per scheduler step, timer, checkpoint, fault and restart. */
  trace: string[];
  /** The choices drawn from the seed (or given). */
  choices: {
    batchSize: number;
    credits: number;
    bufferTimeoutMs: number;
    maxRecordsPerStep: number;
    msPerRecord: number;
    timerBias: number;
    /** `uniform`: any ready subtask, equally likely; `priority`: the highest-priority ready one (see PCT). */
    scheduling: 'uniform' | 'priority';
  };
  /** Indices (in `faults`) of the faults that fired; one that never fired was not reached (e.g. the job ended first). */
  faultsFired: number[];
  /** Scheduler steps taken. */
  steps: number;
  /** Virtual time the run took (ms). */
  virtualMs: number;
  /** The error that ended the job, if it failed (or did not end within `maxSteps`). */
  error?: string;
}

type Job = string | URL | JobDefinition;

/** What the name of a checkpoint entry of in-flight data holds (the entry of no operator is the mark alone). */
const IN_FLIGHT_MARK = channelStateEntry('');

/** How often, under priority scheduling, the subtask that ran drops to the lowest priority (per step). */
const PRIORITY_CHANGE = 0.05;

/** The furthest the virtual clock jumps ahead to a timer while some subtask could run (ms). */
const READY_HORIZON_MS = 100;

/** Runs `job` under the simulation; resolves with what happened (a failed job too: see {@link SimulationResult.error}). */
export async function simulateJob(job: Job, options: SimulateOptions): Promise<SimulationResult> {
  checkOptions(options);
  return new Simulation(job, options).run();
}

function checkOptions(options: SimulateOptions): void {
  const bad = (what: string) => new WeirError(`simulateJob: ${what}`, { code: ErrorCodes.CONFIG, domain: 'user', retriable: false });
  if (!Number.isInteger(options?.seed) || options.seed < 0) throw bad(`seed must be a non-negative integer, got ${String(options?.seed)}`);
  for (const [name, value] of Object.entries({
    parallelism: options.parallelism,
    batchSize: options.batchSize,
    credits: options.credits,
    maxRecordsPerStep: options.maxRecordsPerStep,
    maxSteps: options.maxSteps,
  }))
    if (value !== undefined && (!Number.isInteger(value) || value < 1))
      throw bad(`${name} must be a positive integer, got ${String(value)}`);
  if (options.bufferTimeoutMs !== undefined && (!Number.isInteger(options.bufferTimeoutMs) || options.bufferTimeoutMs < 0))
    throw bad(`bufferTimeoutMs must be a non-negative integer, got ${String(options.bufferTimeoutMs)}`);
  if (options.msPerRecord !== undefined && !(Number.isFinite(options.msPerRecord) && options.msPerRecord >= 0))
    throw bad(`msPerRecord must be a non-negative number, got ${String(options.msPerRecord)}`);
  if (options.faults !== undefined && !Array.isArray(options.faults)) throw bad('faults must be an array');
  if (options.scheduling !== undefined && options.scheduling !== 'uniform' && options.scheduling !== 'priority')
    throw bad(`scheduling must be 'uniform' or 'priority', got ${JSON.stringify(options.scheduling)}`);
  (options.faults ?? []).forEach((f, i) => {
    const where = `faults[${i}] (${JSON.stringify(f)})`;
    if (f.kind === 'kill') {
      if (typeof f.task !== 'string' || f.task === '') throw bad(`${where}: a kill names its task`);
      if ('atRecord' in f) {
        if (!Number.isInteger(f.atRecord) || f.atRecord < 1) throw bad(`${where}: atRecord must be a positive integer`);
      } else if (!['before-snapshot', 'after-ack', 'before-commit'].includes((f as { phase: string }).phase))
        throw bad(`${where}: a kill needs atRecord, or checkpoint and phase ('before-snapshot', 'after-ack' or 'before-commit')`);
    } else if (f.kind === 'rescale') {
      if (!Number.isInteger(f.parallelism) || f.parallelism < 1) throw bad(`${where}: parallelism must be a positive integer`);
    } else if (f.kind !== 'fail-checkpoint') throw bad(`${where}: unknown fault kind; known: kill, fail-checkpoint, rescale`);
    if ('checkpoint' in f && (!Number.isInteger(f.checkpoint) || f.checkpoint < 1))
      throw bad(`${where}: checkpoint must be a positive integer`);
  });
}

/** A fault and whether it fired. */
interface ArmedFault {
  fault: SimulatedFault;
  index: number;
  fired: boolean;
}

/** One run of the job under the simulation (a rescale starts a second on the same clock). */
class Simulation implements LocalSimulation {
  readonly clock = new VirtualClock();
  private readonly random: SeededRandom;
  private readonly trace: string[] = [];
  private readonly faults: ArmedFault[];
  private readonly choices: SimulationResult['choices'];
  private readonly checkpoints: SimulatedCheckpoint[] = [];
  private readonly failedCheckpoints: { id: number; reason: string }[] = [];
  private readonly restarts: SimulatedRestart[] = [];
  private executor: TaskExecutor | undefined;
  private attempt = 0;
  private run_ = 1;
  private steps = 0;
  /** Priorities of subtasks under priority scheduling, and the lowest given so far. */
  private readonly priorities = new Map<SubtaskActor, number>();
  private lowest = 0;
  /** Work not yet turned into virtual time (ms below one). */
  private pendingWorkMs = 0;
  /** A kill decided inside a step (after an acknowledgement), carried out right after it. */
  private killAfterStep: { subtask: SimulatedSubtask; why: string } | undefined;
  /** A fault naming a subtask the job does not have: simulateJob rejects with it. */
  private badFault: WeirError | undefined;
  /** A rescale under way: the run stops with a savepoint, the next starts from it. */
  private rescaleTo: { parallelism: number; fault: ArmedFault } | undefined;

  constructor(
    private readonly job: Job,
    private readonly options: SimulateOptions,
  ) {
    this.random = new SeededRandom(options.seed);
    this.faults = (options.faults ?? []).map((fault, index) => ({ fault, index, fired: false }));
    // Drawn in a fixed order, given or not, so a given value does not shift the other draws.
    const batchSize = this.random.pick([1, 2, 3, 5, 8, 16, 64]);
    const credits = this.random.pick([1, 2, 3, 4]);
    const bufferTimeoutMs = this.random.pick([1, 5, 20, 100]);
    const maxRecordsPerStep = this.random.pick([1, 2, 4, 8, 32, 128]);
    const timerBias = this.random.pick([0.02, 0.1, 0.3]);
    const msPerRecord = this.random.pick([0, 0.05, 0.25, 1]);
    const scheduling = this.random.pick(['uniform', 'priority'] as const);
    this.choices = {
      batchSize: options.batchSize ?? batchSize,
      credits: options.credits ?? credits,
      bufferTimeoutMs: options.bufferTimeoutMs ?? bufferTimeoutMs,
      maxRecordsPerStep: options.maxRecordsPerStep ?? maxRecordsPerStep,
      msPerRecord: options.msPerRecord ?? msPerRecord,
      timerBias,
      scheduling: options.scheduling ?? scheduling,
    };
  }

  private log(line: string): void {
    this.trace.push(`t=${this.clock.monotonic()} ${line}`);
  }

  async run(): Promise<SimulationResult> {
    const outputs: Record<string, unknown[]> = {};
    let error: string | undefined;
    let restoreFrom: { id: number; states: ReadonlyMap<string, Uint8Array>; committed: boolean } | undefined;
    let parallelism = this.options.parallelism;
    for (;;) {
      this.rescaleTo = undefined;
      this.executor = undefined;
      const outcome = await this.runOnce(parallelism, restoreFrom);
      if (this.badFault) throw this.badFault;
      if (outcome.result) for (const [id, records] of Object.entries(outcome.result.collected)) (outputs[id] ??= []).push(...records);
      if (outcome.error !== undefined) {
        error = outcome.error;
        break;
      }
      const savepoint = outcome.savepoint;
      // Set by the rescale fault while the run went on.
      const rescale = this.rescaleTo as { parallelism: number; fault: ArmedFault } | undefined;
      if (!savepoint || !rescale || outcome.result?.savepoint?.id !== savepoint.id) break;
      rescale.fault.fired = true;
      parallelism = rescale.parallelism;
      restoreFrom = { id: savepoint.id, states: savepoint.states, committed: true };
      this.run_++;
      this.attempt = 0;
      this.log(`rescale: run ${this.run_} starts from savepoint ${savepoint.id} at parallelism ${parallelism}`);
    }
    this.clock.clear();
    return {
      seed: this.options.seed,
      outputs,
      checkpoints: this.checkpoints,
      failedCheckpoints: this.failedCheckpoints,
      restarts: this.restarts,
      trace: this.trace,
      choices: this.choices,
      faultsFired: this.faults.filter((f) => f.fired).map((f) => f.index),
      steps: this.steps,
      virtualMs: this.clock.monotonic(),
      ...(error !== undefined ? { error } : {}),
    };
  }

  /** Starts the job (a run) and drives it to its end. */
  private async runOnce(
    parallelism: number | undefined,
    restoreFrom: { id: number; states: ReadonlyMap<string, Uint8Array>; committed: boolean } | undefined,
  ): Promise<{ result?: JobResult; error?: string; savepoint?: CompletedCheckpoint }> {
    let savepoint: CompletedCheckpoint | undefined;
    const client = await startJob(await this.definition(), {
      mode: 'local',
      simulation: this,
      processingTime: this.clock,
      metrics: false,
      jobId: '0'.repeat(31) + String(this.run_ % 10),
      parallelism,
      params: this.options.params,
      batchSize: this.choices.batchSize,
      credits: this.choices.credits,
      bufferTimeoutMs: this.choices.bufferTimeoutMs,
      bufferDebloatTargetMs: 0,
      // RocksDB reads and writes are asynchronous I/O, outside the simulation's control.
      stateBackend: { kind: 'heap' },
      restoreFrom,
      onEvent: (event) => this.onJobEvent(event),
      onCheckpointTriggered: (id) => this.log(`checkpoint ${id} triggered`),
      onCheckpoint: (checkpoint, attempt) => {
        if (checkpoint.kind === 'savepoint') savepoint = checkpoint;
        const inFlight = [...checkpoint.states.keys()].some((k) => k.includes(IN_FLIGHT_MARK));
        const done: SimulatedCheckpoint = {
          id: checkpoint.id,
          kind: checkpoint.kind,
          run: this.run_,
          attempt,
          at: this.clock.monotonic(),
          inFlight,
        };
        this.checkpoints.push(done);
        this.options.onCheckpoint?.({ ...done });
        // Entries, not bytes: the exactly-once collect sink names its transactions with a random id, which its state holds.
        this.log(`${checkpoint.kind} ${checkpoint.id} completed (${checkpoint.states.size} state entries)`);
        this.phaseFault(checkpoint.id, 'before-commit');
      },
      onCheckpointCommitted: (id, _attempt, c) => {
        this.log(`checkpoint ${id} committed`);
        const fault = this.faults.find((f) => !f.fired && f.fault.kind === 'rescale' && f.fault.checkpoint === id);
        if (fault && fault.fault.kind === 'rescale' && this.rescaleTo === undefined) {
          this.rescaleTo = { parallelism: fault.fault.parallelism, fault };
          this.log(`fault ${fault.index}: stop with a savepoint, then rescale to parallelism ${fault.fault.parallelism}`);
          c.stopWithSavepoint().catch((e: Error) => this.log(`savepoint for the rescale failed: ${e.message.split('\n')[0]}`));
        }
      },
    });
    let settled: { result?: JobResult; error?: string } | undefined;
    client.result.then(
      (result) => (settled = { result }),
      (e: Error) => (settled = { error: e.message }),
    );
    const maxSteps = this.options.maxSteps ?? 200_000;
    for (;;) {
      await turn();
      if (settled) break;
      if (this.steps >= maxSteps) {
        const message = `the job did not end within ${maxSteps} simulated steps (maxSteps)`;
        this.log(message);
        await client.cancel().catch(() => undefined);
        await turn();
        return { error: message };
      }
      if (!this.step()) {
        const message = 'the job stalled: no subtask can run and no timer is pending';
        this.log(message);
        await client.cancel().catch(() => undefined);
        await turn();
        return { error: message };
      }
    }
    const done = settled as { result?: JobResult; error?: string };
    if (done.error !== undefined) this.log(`job failed: ${done.error.split('\n')[0]}`);
    else this.log(`job ${done.result?.savepoint ? `stopped with savepoint ${done.result.savepoint.id}` : 'finished'}`);
    return { ...done, savepoint };
  }

  /** Takes one scheduler decision; false when nothing can happen any more. */
  private step(): boolean {
    this.steps++;
    const executor = this.executor;
    const ready: SubtaskActor[] = [];
    if (executor) {
      for (const actor of [...executor.readySubtasks]) {
        // Not runnable now (an output out of credit): dropped, as a real round does; it asks again when it can run.
        if (actor.runnable) ready.push(actor);
        else executor.step(actor, 0);
      }
    }
    const deferred = this.clock.deferred.length;
    const next = this.clock.nextTimer();
    const due = next !== undefined && next.at <= this.clock.now();
    const choices = ready.length + (deferred > 0 ? 1 : 0) + (due ? 1 : 0);
    // While there is work, time may jump ahead to a timer, but not by more than READY_HORIZON_MS:
    // a checkpoint must not expire while its subtasks could still run.
    const soon = next !== undefined && next.at - this.clock.now() <= READY_HORIZON_MS;
    if (choices === 0 || (soon && this.random.next() < this.choices.timerBias)) {
      if (next === undefined) return false;
      this.fireTimer(next);
      return true;
    }
    const pick = this.random.below(choices);
    if (pick < ready.length) {
      this.runSubtask(executor as TaskExecutor, this.choices.scheduling === 'priority' ? this.byPriority(ready) : ready[pick]);
      return true;
    }
    if (deferred > 0 && pick === ready.length) {
      this.log('deferred step');
      (this.clock.deferred.shift() as () => void)();
      return true;
    }
    this.fireTimer(next as VirtualTimer);
    return true;
  }

  /**
   * Priority scheduling (as PCT, Burckhardt et al. 2010): each subtask gets a random priority when
   * first seen, the highest ready one runs, and now and then the one that ran drops below all
   * others. One input then runs far ahead of another, the orders uniform picks rarely produce.
   */
  private byPriority(ready: SubtaskActor[]): SubtaskActor {
    let best = ready[0];
    for (const actor of ready) if (this.priorityOf(actor) > this.priorityOf(best)) best = actor;
    if (this.random.next() < PRIORITY_CHANGE) this.priorities.set(best, this.lowest-- - this.random.next());
    return best;
  }

  private priorityOf(actor: SubtaskActor): number {
    let p = this.priorities.get(actor);
    if (p === undefined) this.priorities.set(actor, (p = this.random.next()));
    return p;
  }

  private fireTimer(timer: VirtualTimer): void {
    if (this.options.traceSteps !== false)
      this.trace.push(`t=${Math.max(timer.at, this.clock.now()) - SIMULATION_EPOCH} timer: ${timer.label}`);
    this.clock.fire(timer);
  }

  /** Runs a subtask for a number of records drawn from the seed (cut short at a kill's record). */
  private runSubtask(executor: TaskExecutor, actor: SubtaskActor): void {
    const view = executor.subtasks.find((s) => s.actor === actor) as SimulatedSubtask;
    let records = this.random.between(1, this.choices.maxRecordsPerStep);
    const kill = this.recordFault(view);
    const before = recordsOf(actor);
    if (kill) records = Math.max(0, Math.min(records, kill.at - before));
    executor.step(actor, records);
    const taken = recordsOf(actor) - before;
    if (this.options.traceSteps !== false) this.log(`run ${actor.name} ${taken} record(s)`);
    // Time passes with the work, in whole milliseconds.
    this.pendingWorkMs += taken * this.choices.msPerRecord;
    const whole = Math.floor(this.pendingWorkMs);
    this.clock.advance(whole);
    this.pendingWorkMs -= whole;
    if (kill && recordsOf(actor) >= kill.at) {
      kill.armed.fired = true;
      this.kill(view, `fault ${kill.armed.index}: killed at record ${kill.at}`);
    }
    const after = this.killAfterStep;
    this.killAfterStep = undefined;
    if (after) this.kill(after.subtask, after.why);
  }

  /** The kill-at-record fault aimed at this subtask in this attempt, if any. */
  private recordFault(view: SimulatedSubtask): { at: number; armed: ArmedFault } | undefined {
    for (const armed of this.faults) {
      const f = armed.fault;
      if (armed.fired || f.kind !== 'kill' || !('atRecord' in f)) continue;
      if ((f.attempt ?? 1) !== this.attempt || this.run_ !== 1) continue;
      if (matches(view, f.task, f.subtask ?? 0)) return { at: f.atRecord, armed };
    }
    return undefined;
  }

  private kill(view: SimulatedSubtask, why: string): void {
    this.log(`${why}: ${view.actor.name}`);
    view.actor.fail(
      new WeirError(`simulated failure of ${view.actor.name} (${why})`, {
        code: ErrorCodes.INTERNAL,
        domain: 'internal',
        retriable: true,
        operator: view.task,
        subtask: view.subtask,
      }),
    );
  }

  /** A kill at a checkpoint phase, if one is armed for checkpoint `id` at `phase` (and `view`'s subtask when given). */
  private phaseFault(id: number, phase: CheckpointPhase, view?: SimulatedSubtask): SimulatedSubtask | undefined {
    for (const armed of this.faults) {
      const f = armed.fault;
      if (armed.fired || f.kind !== 'kill' || !('phase' in f) || f.phase !== phase || f.checkpoint !== id) continue;
      const target = view ?? this.executor?.subtasks.find((s) => matches(s, f.task, f.subtask ?? 0));
      if (!target || !matches(target, f.task, f.subtask ?? 0)) continue;
      armed.fired = true;
      if (phase === 'before-commit') this.kill(target, `fault ${armed.index}: killed before committing checkpoint ${id}`);
      return target;
    }
    return undefined;
  }

  // ---- LocalSimulation

  /** The job, loaded once; its graph is refused before anything is built when it chose RocksDB. */
  private async definition(): Promise<JobDefinition> {
    const job = this.job;
    const definition = isJobDefinition(job) ? job : await loadJobDefinition(toModuleUrl(job));
    return {
      kind: 'weir.job',
      runtime: definition.runtime,
      buildJobGraph: async (options) => {
        const graph = await definition.buildJobGraph(options);
        if (graph.config.stateBackend?.kind === 'rocksdb')
          throw new WeirError(
            "simulateJob runs jobs on the heap state backend only (RocksDB's reads are asynchronous I/O, outside the simulation's control); the job chose RocksDB itself (env.setStateBackend('rocksdb'))",
            { code: ErrorCodes.CONFIG, domain: 'user', retriable: false },
          );
        return graph;
      },
    };
  }

  deployed(executor: TaskExecutor): void {
    this.executor = executor;
    this.attempt++;
    const tasks = executor.subtasks;
    for (const armed of this.faults) {
      const f = armed.fault;
      if (!('task' in f) || f.task === undefined) continue;
      if (!tasks.some((s) => matches(s, f.task as string, f.subtask ?? (f.kind === 'fail-checkpoint' ? undefined : 0))))
        throw (this.badFault = new WeirError(
          `simulateJob: faults[${armed.index}] names task '${f.task}'${f.subtask === undefined ? '' : ` subtask ${f.subtask}`}, which the job does not have; its subtasks: ${[...new Set(tasks.map((s) => `'${s.task}' (0..${tasks.filter((t) => t.vertex === s.vertex).length - 1})`))].join(', ')}`,
          { code: ErrorCodes.CONFIG, domain: 'user', retriable: false },
        ));
    }
    this.log(`run ${this.run_} attempt ${this.attempt} deployed: ${tasks.length} subtask(s)`);
  }

  beforeSnapshot(view: SimulatedSubtask, checkpointId: number): void {
    if (this.phaseFault(checkpointId, 'before-snapshot', view)) {
      this.log(`fault: ${view.actor.name} fails before its snapshot of checkpoint ${checkpointId}`);
      throw new WeirError(`simulated failure of ${view.actor.name} before its snapshot of checkpoint ${checkpointId}`, {
        code: ErrorCodes.INTERNAL,
        domain: 'internal',
        retriable: true,
        operator: view.task,
        subtask: view.subtask,
      });
    }
  }

  acknowledge(view: SimulatedSubtask, checkpointId: number): 'acknowledge' | 'decline' {
    for (const armed of this.faults) {
      const f = armed.fault;
      if (armed.fired || f.kind !== 'fail-checkpoint' || f.checkpoint !== checkpointId) continue;
      if (f.task !== undefined && !matches(view, f.task, f.subtask)) continue;
      armed.fired = true;
      this.log(`fault ${armed.index}: ${view.actor.name} declines checkpoint ${checkpointId}`);
      return 'decline';
    }
    if (this.phaseFault(checkpointId, 'after-ack', view))
      this.killAfterStep = { subtask: view, why: `fault: killed after acknowledging checkpoint ${checkpointId}` };
    return 'acknowledge';
  }

  private onJobEvent(event: JobEvent): void {
    if (event.kind === 'attempt-failed') {
      this.restarts.push({
        run: this.run_,
        attempt: event.attempt,
        error: event.error.message.split('\n')[0],
        next: event.next.action === 'restart' ? `restart from ${event.next.from}` : event.next.reason,
      });
    }
    if (event.kind === 'checkpoint-failed' && event.id !== undefined) this.failedCheckpoints.push({ id: event.id, reason: event.reason });
    // Completed ones are traced from onCheckpoint (their sizes are not deterministic, see there).
    if (event.kind === 'checkpoint-completed') return;
    this.log(describeJobEvent(event));
  }
}

/** Whether a subtask is the one a fault names (`subtask` undefined: any). */
function matches(view: SimulatedSubtask, task: string, subtask: number | undefined): boolean {
  return view.task.includes(task) && (subtask === undefined || view.subtask === subtask);
}

/** A subtask's record clock: its head's input (a source: its output). */
function recordsOf(actor: SubtaskActor): number {
  const head = actor.spec.operators[0];
  return actor.spec.mailbox ? head.recordsIn : head.recordsOut;
}

/** Lets every promise reaction of the step run (one turn of the event loop; the simulated path has no timers or I/O of its own). */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
