// Fixtures of the observe tests: real job graphs built with the API, crafted samples, and an observed job that answers them.
import {
  GlobalWindows,
  StreamExecutionEnvironment,
  Time,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  collectionSource,
  type JobResult,
  type JobSample,
  type ObservedJob,
  type OperatorSample,
  type SubtaskSample,
} from '../../src/index.ts';

/** 2026-12-03 10:51:10 UTC: the wall time of the crafted samples. */
export const NOW = Date.UTC(2026, 11, 3, 10, 51, 10);
export const at = (hh: number, mm: number, ss = 0): number => Date.UTC(2026, 11, 3, hh, mm, ss);

interface Ev {
  k: string;
  ts: number;
}

/**
 * `Source: Kafka Orders` (p 1) -rebalance-> `Map` (p 2) -hash-> `Window(Reduce) -> Collect Sink (default)` (p 2);
 * checkpointing on unless `checkpointing` is false.
 */
export function ordersGraph(options: { checkpointing?: boolean; strategy?: WatermarkStrategy<Ev>; global?: boolean } = {}) {
  const env = new StreamExecutionEnvironment({ parallelism: 2 });
  env.setJobName('orders');
  if (options.checkpointing !== false) env.enableCheckpointing(60_000);
  const strategy = options.strategy ?? WatermarkStrategy.forBoundedOutOfOrderness<Ev>(0).withTimestampAssigner((e) => e.ts);
  const keyed = env
    .fromSource(collectionSource<Ev>([{ k: 'a', ts: 1 }]), strategy, 'Kafka Orders')
    .map((e) => e)
    .keyBy((e) => e.k);
  const windowed = options.global ? keyed.window(GlobalWindows.create()) : keyed.window(TumblingEventTimeWindows.of(Time.hours(1)));
  windowed.reduce((a) => a).collect();
  return env.buildJobGraph();
}

const op = (name: string, rest: Partial<OperatorSample> = {}): OperatorSample => ({ name, id: name, recordsIn: 0, recordsOut: 0, ...rest });

function subtask(
  vertex: number,
  index: number,
  task: string,
  operators: OperatorSample[],
  rest: Partial<SubtaskSample> = {},
): SubtaskSample {
  return {
    vertex,
    subtask: index,
    task,
    at: NOW,
    operators,
    busyMs: 0,
    idleMs: 0,
    backPressuredMs: 0,
    inputWatermarks: [],
    currentInputWatermark: Number.NEGATIVE_INFINITY,
    currentOutputWatermark: Number.NEGATIVE_INFINITY,
    ...rest,
  };
}

/** What the orders job looks like when partition orders-3 stopped 9 minutes ago at 10:42:10 (`idle`: marked idle). */
export interface OrdersState {
  now?: number;
  /** Watermark of orders-3 (the slow partition) and of the job downstream. */
  slow?: number;
  idle?: boolean;
  windows?: [number, number];
  /** Records and busy/idle/back-pressured ms per subtask scale with this. */
  scale?: number;
  neverFires?: string;
}

export const JOB_ID = '0123456789abcdef0123456789abcdef';

/** A crafted sample of the orders job. */
export function ordersSample(s: OrdersState = {}): JobSample {
  const now = s.now ?? NOW;
  const slow = s.slow ?? at(10, 42, 10);
  const scale = s.scale ?? 1;
  const [w0, w1] = s.windows ?? [3, 2];
  const downstream = s.idle ? at(10, 55) : slow;
  const source = subtask(
    0,
    0,
    'Source: Kafka Orders',
    [
      op('Kafka Orders', {
        recordsIn: 0,
        recordsOut: 1000 * scale,
        outputWatermark: downstream,
        ...(s.neverFires === 'no-watermarks' ? { neverFires: s.neverFires } : {}),
      }),
    ],
    {
      at: now,
      busyMs: 100 * scale,
      idleMs: 800 * scale,
      backPressuredMs: 100 * scale,
      currentOutputWatermark: downstream,
      mailbox: { queued: 0, bound: 8 },
      credits: { available: 3, total: 4 },
      splits: [
        {
          split: 'orders-0',
          watermark: at(10, 55),
          idle: false,
          lastEventTime: at(10, 55),
          lastRecordAt: now - 1000,
          records: 600 * scale,
        },
        {
          split: 'orders-3',
          watermark: slow,
          idle: s.idle ?? false,
          lastEventTime: at(10, 42, 10),
          lastRecordAt: now - 9 * 60_000,
          records: 400 * scale,
        },
      ],
    },
  );
  const maps = [0, 1].map((i) =>
    subtask(
      1,
      i,
      'Map',
      [op('Map', { recordsIn: 500 * scale, recordsOut: 500 * scale, inputWatermarks: [downstream], outputWatermark: downstream })],
      {
        at: now,
        busyMs: 200 * scale,
        idleMs: 200 * scale,
        backPressuredMs: 600 * scale,
        inputWatermarks: [downstream],
        currentInputWatermark: downstream,
        currentOutputWatermark: downstream,
      },
    ),
  );
  const windows = [w0, w1].map((pending, i) =>
    subtask(
      2,
      i,
      'Window(Reduce) -> Collect Sink (default)',
      [
        op('Window(Reduce)', {
          recordsIn: 500 * scale,
          recordsOut: 0,
          inputWatermarks: [downstream],
          outputWatermark: downstream,
          state: { keys: 10 + i, bytes: 1000 + i },
          timers: { pending, ...(pending > 0 ? { earliest: at(10, 59, 59) + 999, earliestKeys: i === 0 ? 10 : 7 } : {}) },
          windows: { pending, ...(pending > 0 ? { earliest: { start: at(10, 0), end: at(11, 0), keys: i === 0 ? 10 : 7 } } : {}) },
          counters: { numLateRecordsDropped: 2 * i },
          ...(s.neverFires === 'global-window-without-trigger' ? { neverFires: s.neverFires } : {}),
        }),
        op('Collect Sink (default)', { recordsIn: 0, recordsOut: 0 }),
      ],
      {
        at: now,
        busyMs: 900 * scale,
        idleMs: 100 * scale,
        inputWatermarks: [downstream, downstream],
        currentInputWatermark: downstream,
        currentOutputWatermark: downstream,
      },
    ),
  );
  return {
    jobId: JOB_ID,
    name: 'orders',
    status: 'RUNNING',
    startTime: at(10, 0),
    now,
    attempt: 2,
    numRestarts: 1,
    subtasks: [source, ...maps, ...windows],
    checkpoints: {
      completed: 2,
      failed: 1,
      inProgress: 0,
      history: [
        { id: 1, kind: 'checkpoint', status: 'COMPLETED', triggerTime: at(10, 10), durationMs: 120, sizeBytes: 4096, alignmentMs: 3 },
        { id: 2, kind: 'checkpoint', status: 'FAILED', triggerTime: at(10, 20), failure: 'declined by Map (subtask 1)' },
        {
          id: 3,
          kind: 'savepoint',
          status: 'COMPLETED',
          triggerTime: at(10, 30),
          durationMs: 250,
          sizeBytes: 8192,
          alignmentMs: 5,
          path: '/tmp/sp/savepoint-3',
        },
      ],
    },
    exceptions: [{ time: at(10, 5), message: 'boom\n  at map', operator: 'Map', subtask: 1, attempt: 1, action: 'restart' }],
  };
}

/** An observed job that answers `current` (mutable) and records savepoint requests. */
export interface FakeJob extends ObservedJob {
  current: JobSample;
  savepoints: { dir?: string; stop: boolean }[];
  /** Makes the next savepoint fail with this message. */
  failNext?: string;
  /** Ends the job (its result settles). */
  finish(): void;
}

export function fakeJob(graph = ordersGraph(), sample = ordersSample(), options: { id?: string; checkpointPath?: string } = {}): FakeJob {
  let finish!: () => void;
  const result = new Promise<JobResult>((resolve) => {
    finish = () => resolve({} as JobResult);
  });
  const job: FakeJob = {
    id: options.id ?? JOB_ID,
    graph,
    result,
    checkpointPath: options.checkpointPath,
    current: sample,
    savepoints: [],
    finish,
    sample: async () => job.current,
    triggerSavepoint: async (dir) => savepoint(dir, false),
    stopWithSavepoint: async (dir) => savepoint(dir, true),
  };
  const savepoint = async (dir: string | undefined, stop: boolean) => {
    job.savepoints.push({ dir, stop });
    const failure = job.failNext;
    job.failNext = undefined;
    if (failure) throw new Error(failure);
    return {
      id: 7,
      timestamp: NOW,
      kind: 'savepoint' as const,
      states: new Map(),
      bytes: 10,
      durationMs: 5,
      path: dir ? `${dir}/savepoint-7` : undefined,
    };
  };
  return job;
}
