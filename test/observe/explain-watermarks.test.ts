// The watermark explainer on crafted samples of a real job graph: which split holds the watermark, when a window can fire, has fired, or never will.
import { describe, expect, it } from 'vitest';
import { KeyedProcessFunction, StreamExecutionEnvironment, WatermarkStrategy, explainWatermarks, type JobSample } from '../../src/index.ts';
import { formatAgo, formatTime } from '../../src/observe/index.ts';
import { NOW, at, ordersGraph, ordersSample } from './rest-fixtures.ts';

const HEADER = 'Watermarks of job orders (0123456789abcdef0123456789abcdef) at 2026-12-03 10:51:10 UTC, RUNNING:';

describe('explainWatermarks', () => {
  it('names the stopped partition that holds the window back and suggests idleness', () => {
    const e = explainWatermarks(ordersGraph(), ordersSample());
    expect(e.lines).toEqual([
      HEADER,
      'Window(Reduce): window [10:00:00, 11:00:00) of 17 keys (the earliest of 5 pending) waits for watermark 11:00:00; ' +
        'input watermark 10:42:10 comes from partition orders-3 (Kafka Orders, subtask 0), which last delivered a record 9 min ago ' +
        '(event time 10:42:10) and is not marked idle (set withIdleness)',
    ]);
    const [w] = e.operators;
    expect(w).toMatchObject({
      operator: 'Window(Reduce)',
      vertex: 2,
      state: 'waiting',
      waitsFor: at(11, 0),
      inputWatermark: at(10, 42, 10),
      inputEnded: false,
      windows: { pending: 5, earliest: { start: at(10, 0), end: at(11, 0), keys: 17 } },
      timers: { pending: 5, earliest: at(10, 59, 59) + 999, earliestKeys: 17 },
      origin: {
        operator: 'Kafka Orders',
        subtask: 0,
        kind: 'source',
        split: 'orders-3',
        splitKind: 'partition',
        watermark: at(10, 42, 10),
        idle: false,
        lastEventTime: at(10, 42, 10),
        lastRecordAt: NOW - 9 * 60_000,
        sinceLastRecordMs: 9 * 60_000,
      },
    });
    expect(w.lineage.map((h) => h.operator)).toEqual(['Window(Reduce)', 'Map', 'Kafka Orders']);
    expect(e.jobId).toBe('0123456789abcdef0123456789abcdef');
    expect(e.at).toBe(NOW);
  });

  it('says the window can fire once the watermark reached its last timestamp', () => {
    const e = explainWatermarks(ordersGraph(), ordersSample({ slow: at(10, 59, 59) + 999 }));
    expect(e.lines[1]).toBe(
      'Window(Reduce): window [10:00:00, 11:00:00) of 17 keys (the earliest of 5 pending) can fire now: input watermark 10:59:59.999 has reached it',
    );
    expect(e.operators[0].state).toBe('can-fire');
  });

  it('says the windows have fired when none is pending', () => {
    const e = explainWatermarks(ordersGraph(), ordersSample({ slow: at(11, 0, 5), windows: [0, 0] }));
    expect(e.lines[1]).toBe('Window(Reduce): no pending windows; every one up to input watermark 11:00:05 has fired');
    expect(e.operators[0].state).toBe('fired');
  });

  it('does not suggest idleness for a split marked idle, and names the split still holding the minimum', () => {
    const e = explainWatermarks(ordersGraph(), ordersSample({ idle: true }));
    // orders-3 is idle: orders-0 (10:55:00, last record 1 s ago) holds the watermark.
    expect(e.lines[1]).toBe(
      'Window(Reduce): window [10:00:00, 11:00:00) of 17 keys (the earliest of 5 pending) waits for watermark 11:00:00; ' +
        'input watermark 10:55:00 comes from partition orders-0 (Kafka Orders, subtask 0), which last delivered a record 1 s ago (event time 10:55:00) and is not marked idle',
    );
  });

  it('names a GlobalWindows operator without trigger as never firing', () => {
    const e = explainWatermarks(ordersGraph({ global: true }), ordersSample({ neverFires: 'global-window-without-trigger' }));
    expect(e.operators.map((o) => [o.operator, o.state, o.neverFires])).toEqual([
      ['Window(Reduce)', 'never-fires', 'global-window-without-trigger'],
    ]);
    expect(e.lines[1]).toBe(
      'Window(Reduce): never fires: GlobalWindows with the default trigger (NeverTrigger) fires no window; give it a trigger (.trigger(CountTrigger.of(n)) or another)',
    );
  });

  it('names a source without watermarks and the windows downstream that will never fire', () => {
    const graph = ordersGraph({ strategy: WatermarkStrategy.noWatermarks() });
    const e = explainWatermarks(graph, ordersSample({ neverFires: 'no-watermarks', slow: Number.NEGATIVE_INFINITY }));
    expect(e.operators.map((o) => [o.operator, o.state, o.neverFires])).toEqual([
      ['Window(Reduce)', 'never-fires', 'no-watermarks'],
      ['Kafka Orders', 'never-fires', 'no-watermarks'],
    ]);
    expect(e.lines.slice(1)).toEqual([
      'Window(Reduce): window [10:00:00, 11:00:00) of 17 keys (the earliest of 5 pending) will never fire: input watermark none comes from Kafka Orders (subtask 0), which emits no watermarks (WatermarkStrategy.noWatermarks())',
      'Kafka Orders: emits no watermarks (WatermarkStrategy.noWatermarks()): event-time windows and timers downstream never fire; use forBoundedOutOfOrderness or forMonotonousTimestamps',
    ]);
  });

  it('says when nothing has reported yet', () => {
    const sample = { ...ordersSample(), subtasks: [], status: 'CREATED' as const };
    expect(explainWatermarks(ordersGraph(), sample).lines).toEqual([
      'Watermarks of job orders (0123456789abcdef0123456789abcdef) at 2026-12-03 10:51:10 UTC, CREATED:',
      'no subtask has reported yet (the job is deploying)',
    ]);
  });

  it('formats times in UTC and spans in words', () => {
    expect(formatTime(at(10, 0), NOW)).toBe('10:00:00');
    expect(formatTime(Date.UTC(1970, 0, 1, 0, 0, 5, 250), NOW)).toBe('1970-01-01 00:00:05.250');
    expect(formatTime(Number.NEGATIVE_INFINITY, NOW)).toBe('none');
    expect(formatTime(Number.POSITIVE_INFINITY, NOW)).toBe('end of input');
    expect([500, 42_000, 9 * 60_000 + 59_000, 5 * 3_600_000, 3 * 86_400_000].map(formatAgo)).toEqual([
      'just now',
      '42 s ago',
      '9 min ago',
      '5 h ago',
      '3 days ago',
    ]);
  });

  it('explains event-time timers and stops the walk at the operator that assigns watermarks', () => {
    interface Ev {
      k: string;
      ts: number;
    }
    class Alarm extends KeyedProcessFunction<string, Ev, string> {
      processElement(): void {}
    }
    const env = new StreamExecutionEnvironment({ parallelism: 1 });
    env
      .fromCollection<Ev>([{ k: 'a', ts: 1 }])
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts))
      .keyBy((e) => e.k)
      .process(new Alarm())
      .print();
    const graph = env.buildJobGraph();
    const base = { busyMs: 0, idleMs: 0, backPressuredMs: 0, at: NOW };
    const sample: JobSample = {
      ...ordersSample(),
      subtasks: [
        {
          ...base,
          vertex: 0,
          subtask: 0,
          task: 'Source: Collection Source -> Timestamps/Watermarks',
          operators: [
            { name: 'Collection Source', id: 's', recordsIn: 0, recordsOut: 5 },
            { name: 'Timestamps/Watermarks', id: 't', recordsIn: 5, recordsOut: 5, outputWatermark: at(10, 30) },
          ],
          inputWatermarks: [],
          currentInputWatermark: Number.NEGATIVE_INFINITY,
          currentOutputWatermark: at(10, 30),
        },
        {
          ...base,
          vertex: 1,
          subtask: 0,
          task: 'KeyedProcess -> Print to Std. Out',
          operators: [
            { name: 'KeyedProcess', id: 'k', recordsIn: 5, recordsOut: 0, timers: { pending: 4, earliest: at(10, 45), earliestKeys: 1 } },
            { name: 'Print to Std. Out', id: 'p', recordsIn: 0, recordsOut: 0 },
          ],
          inputWatermarks: [at(10, 30)],
          currentInputWatermark: at(10, 30),
          currentOutputWatermark: at(10, 30),
        },
      ],
    };
    const e = explainWatermarks(graph, sample);
    expect(e.lines.slice(1)).toEqual([
      'KeyedProcess: timer at 10:45:00 of 1 key (the earliest of 4 pending) waits for watermark 10:45:00; input watermark 10:30:00 comes from Timestamps/Watermarks (subtask 0), which assigns timestamps and watermarks',
    ]);
    expect(e.operators[0]).toMatchObject({
      state: 'waiting',
      waitsFor: at(10, 45),
      origin: { kind: 'assigner', operator: 'Timestamps/Watermarks', watermark: at(10, 30) },
    });
    expect(e.operators[0].lineage.map((h) => [h.operator, h.watermark])).toEqual([
      ['KeyedProcess', at(10, 30)],
      ['Timestamps/Watermarks', at(10, 30)],
    ]);
  });
});
