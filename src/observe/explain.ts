//! "Why hasn't my window fired?": walks the watermark lineage of every event-time operator back to the split that holds it.

import type { JobSample, OperatorSample, SplitSample, SubtaskSample } from '../core/index.ts';
import type { JobGraph } from '../graph/job-graph.ts';

/** A split idle for this long without being marked idle makes the explainer suggest `withIdleness`. */
export const IDLENESS_HINT_AFTER_MS = 10_000;

/** One step of the lineage walk: an operator's subtask and the watermark it received. */
export interface WatermarkHop {
  operator: string;
  subtask: number;
  /** Input watermark there (null: none yet). */
  watermark: number | null;
}

/** Where an operator's input watermark comes from: the end of the lineage walk. */
export interface WatermarkOrigin {
  /** The source (or watermark-assigning) operator and its subtask. */
  operator: string;
  subtask: number;
  /** `source`: a source's split (or the source itself when it reports none); `assigner`: an `assignTimestampsAndWatermarks` operator. */
  kind: 'source' | 'assigner';
  /** The split holding the minimum watermark, as the user names it (`orders-3`, a file path, `generator 1/2`). */
  split?: string;
  /** What the split is: a Kafka partition, a file, or another split. */
  splitKind?: 'partition' | 'file' | 'split';
  watermark: number | null;
  idle?: boolean;
  lastEventTime?: number;
  lastRecordAt?: number;
  /** `now - lastRecordAt` of the sample. */
  sinceLastRecordMs?: number;
  /** The source emits no watermarks (`WatermarkStrategy.noWatermarks`). */
  noWatermarks?: boolean;
}

/** One event-time operator as the explainer sees it (numbers aggregated over its subtasks). */
export interface ExplainedOperator {
  operator: string;
  vertex: number;
  /** `waiting` for the watermark, `can-fire` now (the watermark passed), `fired` (nothing pending), `never-fires`. */
  state: 'waiting' | 'can-fire' | 'fired' | 'never-fires';
  /** Why it never fires: `global-window-without-trigger`, `no-watermarks`. */
  neverFires?: string;
  /** Windows holding contents, and the earliest one (by end) with the keys holding it. */
  windows?: { pending: number; earliest?: { start: number; end: number; keys: number } };
  /** Event-time timers registered and not fired, the earliest and the keys waiting for it. */
  timers?: { pending: number; earliest?: number; earliestKeys?: number };
  /** The watermark the earliest window or timer waits for. */
  waitsFor?: number;
  /** The lowest input watermark among the operator's subtasks (null: none yet, or the end of input, see `inputEnded`). */
  inputWatermark: number | null;
  /** Every input reached the end (the final watermark). */
  inputEnded: boolean;
  /** The subtask with the lowest input watermark. */
  subtask?: number;
  /** From this operator back to the origin, each hop's input watermark. */
  lineage: WatermarkHop[];
  origin?: WatermarkOrigin;
  /** The human sentence. */
  line: string;
}

/** The answer to "why hasn't my window fired?" for one job sample. */
export interface WatermarkExplanation {
  jobId: string;
  /** Wall time of the sample. */
  at: number;
  /** Event-time operators from the sinks back (reverse topological order). */
  operators: ExplainedOperator[];
  /** Human text: a header, then one line per operator. */
  lines: string[];
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** A UTC time: `10:42:10` on the day of `now` (or always with the date when `now` is omitted), else `1970-01-01 00:00:05`; milliseconds only when not 0. */
export function formatTime(t: number, now = Number.NaN): string {
  if (t === Number.NEGATIVE_INFINITY) return 'none';
  if (t === Number.POSITIVE_INFINITY) return 'end of input';
  const d = new Date(t);
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${d.getUTCMilliseconds() ? `.${pad(d.getUTCMilliseconds(), 3)}` : ''}`;
  const day = (x: Date): string => `${x.getUTCFullYear()}-${pad(x.getUTCMonth() + 1)}-${pad(x.getUTCDate())}`;
  return day(d) === day(new Date(now)) ? time : `${day(d)} ${time}`;
}

/** `9 min ago`-style span. */
export function formatAgo(ms: number): string {
  if (ms < 1000) return 'just now';
  if (ms < 60_000) return `${Math.floor(ms / 1000)} s ago`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`;
  if (ms < 172_800_000) return `${Math.floor(ms / 3_600_000)} h ago`;
  return `${Math.floor(ms / 86_400_000)} days ago`;
}

const jsonWatermark = (w: number): number | null => (Number.isFinite(w) ? w : null);

/** Index of the job's subtask samples by vertex and subtask. */
class SampleIndex {
  private readonly byTask = new Map<string, SubtaskSample>();
  constructor(
    readonly graph: JobGraph,
    readonly sample: JobSample,
  ) {
    for (const s of sample.subtasks) this.byTask.set(`${s.vertex}/${s.subtask}`, s);
  }
  subtask(node: number, subtask: number): SubtaskSample | undefined {
    return this.byTask.get(`${this.graph.vertexOfNode[node]}/${subtask}`);
  }
  operator(node: number, subtask: number): OperatorSample | undefined {
    const name = this.graph.nodeNames[node];
    return this.subtask(node, subtask)?.operators.find((o) => o.name === name);
  }
  /** Subtasks sampled for the node's vertex. */
  subtasksOf(node: number): number[] {
    const v = this.graph.vertexOfNode[node];
    return this.sample.subtasks.filter((s) => s.vertex === v).map((s) => s.subtask);
  }
  /** The node's chained predecessor in the same task, if it is not the head. */
  chainedInput(node: number): number | undefined {
    const vertex = this.graph.vertices[this.graph.vertexOfNode[node]];
    for (const [from, outs] of vertex.chainedOutputs) if (outs.some((o) => o.to === node)) return from;
    return undefined;
  }
  /** The watermark node `node` received in `subtask`. */
  inputWatermark(node: number, subtask: number): number {
    const op = this.operator(node, subtask);
    if (op?.inputWatermarks && op.inputWatermarks.length > 0) return Math.min(...op.inputWatermarks);
    const up = this.chainedInput(node);
    if (up !== undefined) return this.outputWatermark(up, subtask);
    return this.subtask(node, subtask)?.currentInputWatermark ?? Number.NEGATIVE_INFINITY;
  }
  /** The watermark node `node` emitted in `subtask`. */
  outputWatermark(node: number, subtask: number): number {
    const op = this.operator(node, subtask);
    if (op?.outputWatermark !== undefined) return op.outputWatermark;
    const vertex = this.graph.vertices[this.graph.vertexOfNode[node]];
    if (vertex.nodes[vertex.nodes.length - 1] === node)
      return this.subtask(node, subtask)?.currentOutputWatermark ?? Number.NEGATIVE_INFINITY;
    return this.inputWatermark(node, subtask);
  }
}

function splitKind(sourceName: string): 'partition' | 'file' | 'split' {
  if (/kafka/i.test(sourceName)) return 'partition';
  if (/file|csv/i.test(sourceName)) return 'file';
  return 'split';
}

/**
 * The split holding a source subtask's watermark: the lowest among those not idle. When every split
 * is idle, the watermark stays where the last active one left it: the highest.
 */
function holdingSplit(splits: SplitSample[]): SplitSample | undefined {
  const active = splits.filter((s) => !s.idle);
  let best: SplitSample | undefined;
  if (active.length > 0) {
    for (const s of active) if (!best || s.watermark < best.watermark) best = s;
  } else {
    for (const s of splits) if (!best || s.watermark > best.watermark) best = s;
  }
  return best;
}

/** Walks from `node`'s input in `subtask` back to the origin of its watermark. */
function walk(ix: SampleIndex, node: number, subtask: number): { lineage: WatermarkHop[]; origin?: WatermarkOrigin } {
  const { graph, sample } = ix;
  const nodes = graph.streamGraph.nodes;
  const lineage: WatermarkHop[] = [];
  let at = node;
  let s = subtask;
  for (let guard = 0; guard <= nodes.length; guard++) {
    const n = nodes[at];
    const name = graph.nodeNames[at];
    if (n.type === 'source' || n.inputs.length === 0) {
      const st = ix.subtask(at, s);
      const op = ix.operator(at, s);
      const watermark = ix.outputWatermark(at, s);
      lineage.push({ operator: name, subtask: s, watermark: jsonWatermark(watermark) });
      const origin: WatermarkOrigin = { operator: name, subtask: s, kind: 'source', watermark: jsonWatermark(watermark) };
      if (op?.neverFires === 'no-watermarks') origin.noWatermarks = true;
      const split = holdingSplit(st?.splits ?? []);
      if (split) {
        origin.split = split.split;
        origin.splitKind = splitKind(name);
        origin.watermark = jsonWatermark(split.watermark);
        origin.idle = split.idle;
        if (split.lastEventTime !== undefined) origin.lastEventTime = split.lastEventTime;
        if (split.lastRecordAt !== undefined) {
          origin.lastRecordAt = split.lastRecordAt;
          origin.sinceLastRecordMs = Math.max(0, sample.now - split.lastRecordAt);
        }
      }
      return { lineage, origin };
    }
    if (n.type === 'timestamps-watermarks' && at !== node) {
      const watermark = jsonWatermark(ix.outputWatermark(at, s));
      lineage.push({ operator: name, subtask: s, watermark });
      return { lineage, origin: { operator: name, subtask: s, kind: 'assigner', watermark } };
    }
    lineage.push({ operator: name, subtask: s, watermark: jsonWatermark(ix.inputWatermark(at, s)) });
    const chained = ix.chainedInput(at);
    if (chained !== undefined) {
      at = chained;
      continue;
    }
    // A network input: the upstream subtask with the lowest output watermark (forward edges keep the index).
    const vertex = graph.vertices[graph.vertexOfNode[at]];
    let next: { node: number; subtask: number; watermark: number } | undefined;
    for (const edge of vertex.inputs.filter((e) => e.targetNode === at)) {
      const candidates = edge.partitioner === 'forward' ? [s] : ix.subtasksOf(edge.sourceNode);
      for (const u of candidates) {
        const w = ix.outputWatermark(edge.sourceNode, u);
        if (!next || w < next.watermark) next = { node: edge.sourceNode, subtask: u, watermark: w };
      }
    }
    if (!next) return { lineage };
    at = next.node;
    s = next.subtask;
  }
  return { lineage };
}

/** Pending windows and timers of one operator, summed over its subtasks (keys of the earliest summed where subtasks share it). */
function aggregate(ops: OperatorSample[]): Pick<ExplainedOperator, 'windows' | 'timers' | 'neverFires'> {
  const out: Pick<ExplainedOperator, 'windows' | 'timers' | 'neverFires'> = {};
  for (const op of ops) {
    if (op.neverFires) out.neverFires = op.neverFires;
    if (op.windows) {
      const w = (out.windows ??= { pending: 0 });
      w.pending += op.windows.pending;
      const e = op.windows.earliest;
      if (e && op.windows.pending > 0) {
        if (!w.earliest || e.end < w.earliest.end || (e.end === w.earliest.end && e.start < w.earliest.start)) w.earliest = { ...e };
        else if (e.end === w.earliest.end && e.start === w.earliest.start) w.earliest.keys += e.keys;
      }
    }
    if (op.timers) {
      const t = (out.timers ??= { pending: 0 });
      t.pending += op.timers.pending;
      const e = op.timers.earliest;
      if (e !== undefined && op.timers.pending > 0) {
        if (t.earliest === undefined || e < t.earliest) {
          t.earliest = e;
          t.earliestKeys = op.timers.earliestKeys ?? 0;
        } else if (e === t.earliest) t.earliestKeys = (t.earliestKeys ?? 0) + (op.timers.earliestKeys ?? 0);
      }
    }
  }
  return out;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

const NEVER_FIRES_TEXT: Record<string, string> = {
  'global-window-without-trigger':
    'never fires: GlobalWindows with the default trigger (NeverTrigger) fires no window; give it a trigger (.trigger(CountTrigger.of(n)) or another)',
  'no-watermarks':
    'emits no watermarks (WatermarkStrategy.noWatermarks()): event-time windows and timers downstream never fire; use forBoundedOutOfOrderness or forMonotonousTimestamps',
};

/** Where the watermark comes from, as a clause: `comes from partition orders-3 (Source: Kafka, subtask 1), which …`. */
function originText(o: WatermarkOrigin | undefined, now: number): string {
  if (!o) return 'whose origin the sample does not show';
  if (o.kind === 'assigner') return `comes from ${o.operator} (subtask ${o.subtask}), which assigns timestamps and watermarks`;
  if (o.noWatermarks)
    return `comes from ${o.operator} (subtask ${o.subtask}), which emits no watermarks (WatermarkStrategy.noWatermarks())`;
  if (o.split === undefined) return `comes from ${o.operator} (subtask ${o.subtask})`;
  let text = `comes from ${o.splitKind} ${o.split} (${o.operator}, subtask ${o.subtask}), which `;
  if (o.lastRecordAt === undefined) text += 'has not delivered a record yet';
  else {
    text += `last delivered a record ${formatAgo(o.sinceLastRecordMs ?? 0)}`;
    if (o.lastEventTime !== undefined) text += ` (event time ${formatTime(o.lastEventTime, now)})`;
  }
  if (o.idle) return `${text} and is marked idle`;
  const quiet = o.lastRecordAt === undefined || (o.sinceLastRecordMs ?? 0) >= IDLENESS_HINT_AFTER_MS;
  return `${text} and is not marked idle${quiet ? ' (set withIdleness)' : ''}`;
}

function explainOperator(ix: SampleIndex, node: number): ExplainedOperator | undefined {
  const { graph, sample } = ix;
  const name = graph.nodeNames[node];
  const subtasks = ix.subtasksOf(node);
  const ops = subtasks.map((s) => ix.operator(node, s)).filter((o): o is OperatorSample => o !== undefined);
  const agg = aggregate(ops);
  if (!agg.windows && !agg.timers && !agg.neverFires) return undefined;
  const now = sample.now;
  const vertex = graph.vertexOfNode[node];

  if (agg.neverFires && !(agg.neverFires === 'no-watermarks' && graph.streamGraph.nodes[node].inputs.length > 0)) {
    const reason = NEVER_FIRES_TEXT[agg.neverFires] ?? `never fires (${agg.neverFires})`;
    return {
      operator: name,
      vertex,
      state: 'never-fires',
      ...agg,
      inputWatermark: null,
      inputEnded: false,
      lineage: [],
      line: `${name}: ${reason}`,
    };
  }

  let low: { subtask: number; watermark: number } | undefined;
  for (const s of subtasks) {
    const w = ix.inputWatermark(node, s);
    if (!low || w < low.watermark) low = { subtask: s, watermark: w };
  }
  const inputWatermark = low?.watermark ?? Number.NEGATIVE_INFINITY;
  const walked = low ? walk(ix, node, low.subtask) : { lineage: [] as WatermarkHop[] };
  const base: ExplainedOperator = {
    operator: name,
    vertex,
    state: 'waiting',
    ...agg,
    inputWatermark: jsonWatermark(inputWatermark),
    inputEnded: inputWatermark === Number.POSITIVE_INFINITY,
    lineage: walked.lineage,
    line: '',
  };
  if (low) base.subtask = low.subtask;
  if (walked.origin) base.origin = walked.origin;

  const earliestWindow = agg.windows?.earliest;
  const earliestTimer = agg.timers?.pending ? agg.timers.earliest : undefined;
  // Flink fires a window once the watermark reaches its last timestamp (end - 1), a timer at its time.
  const needs = earliestWindow ? earliestWindow.end - 1 : earliestTimer;
  const wmText = `input watermark ${formatTime(inputWatermark, now)}`;
  if (needs === undefined) {
    base.state = 'fired';
    const what = agg.windows ? 'no pending windows' : 'no pending timers';
    base.line = `${name}: ${what}; every one up to ${wmText} has fired`;
    return base;
  }
  base.waitsFor = earliestWindow ? earliestWindow.end : needs;
  const what = earliestWindow
    ? `window [${formatTime(earliestWindow.start, now)}, ${formatTime(earliestWindow.end, now)}) of ${plural(earliestWindow.keys, 'key')}` +
      ((agg.windows?.pending ?? 0) > 1 ? ` (the earliest of ${agg.windows?.pending} pending)` : '')
    : `timer at ${formatTime(needs, now)} of ${plural(agg.timers?.earliestKeys ?? 0, 'key')}` +
      ((agg.timers?.pending ?? 0) > 1 ? ` (the earliest of ${agg.timers?.pending} pending)` : '');
  if (inputWatermark >= needs) {
    base.state = 'can-fire';
    base.line = `${name}: ${what} can fire now: ${wmText} has reached it`;
    return base;
  }
  if (walked.origin?.noWatermarks) {
    base.state = 'never-fires';
    base.neverFires = 'no-watermarks';
    base.line = `${name}: ${what} will never fire: ${wmText} ${originText(walked.origin, now)}`;
    return base;
  }
  base.line = `${name}: ${what} waits for watermark ${formatTime(base.waitsFor, now)}; ${wmText} ${originText(walked.origin, now)}`;
  return base;
}

/**
 * Explains, for every event-time operator of the job (windows, event-time timers, and operators
 * that never fire), what its earliest window or timer waits for and which split holds the
 * watermark back. A pure function of the graph and one sample.
 */
export function explainWatermarks(graph: JobGraph, sample: JobSample): WatermarkExplanation {
  const ix = new SampleIndex(graph, sample);
  const operators: ExplainedOperator[] = [];
  // Node ids are topological (an input is added before its consumer): from the sinks back.
  for (let node = graph.streamGraph.nodes.length - 1; node >= 0; node--) {
    const explained = explainOperator(ix, node);
    if (explained) operators.push(explained);
  }
  const lines = [`Watermarks of job ${sample.name} (${sample.jobId}) at ${formatTime(sample.now)} UTC, ${sample.status}:`];
  if (sample.subtasks.length === 0) lines.push('no subtask has reported yet (the job is deploying)');
  else if (operators.length === 0) lines.push('the job has no event-time operators (windows or event-time timers)');
  for (const op of operators) lines.push(op.line);
  return { jobId: sample.jobId, at: sample.now, operators, lines };
}
