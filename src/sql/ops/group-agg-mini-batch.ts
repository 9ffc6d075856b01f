//! Flink's mini-batch GroupAggregate (`table.exec.mini-batch.*`): input buffered per key, each key's batch applied to its state at once, one change per key and batch.

import { AbstractStreamOperator } from '../../actors/operators.ts';
import type { OperatorContext, Output } from '../../actors/operator.ts';
import { configError } from '../../core/errors.ts';
import { ValueStateDescriptor } from '../../state/descriptors.ts';
import type { KeyedStateBackend, ValueState } from '../../state/keyed-backend.ts';
import { ROW_KIND, type RowKind } from '../plan.ts';
import type { GroupAggNode } from '../plan-changelog.ts';
import { compileGroupProjection, RetractingAggregates, type GroupState } from './group-agg.ts';

type Row = Record<string, unknown>;

/** The mini-batch settings of a job: flush after `latencyMs` of processing time or `size` buffered rows. */
export interface MiniBatch {
  latencyMs: number;
  size: number;
}

/** '2 s', '500 ms', '1 min', '5000' → ms; null when not a duration. */
function durationMs(text: string): number | null {
  const m = /^\s*(\d+)\s*(ms|milli|millis|milliseconds?|s|sec|secs|seconds?|min|mins|minutes?|h|hours?)?\s*$/i.exec(text);
  if (m === null) return null;
  const unit = (m[2] ?? 'ms').toLowerCase();
  const f = unit === 'ms' || unit.startsWith('milli') ? 1 : unit.startsWith('s') ? 1000 : unit.startsWith('m') ? 60_000 : 3_600_000;
  return Number(m[1]) * f;
}

/**
 * The mini-batch settings in a job's SQL config, or undefined when `table.exec.mini-batch.enabled`
 * is not 'true'. As Flink, enabled needs `allow-latency` > 0 and `size` > 0.
 */
export function miniBatchOf(config: Readonly<Record<string, string>>): MiniBatch | undefined {
  const enabled = config['table.exec.mini-batch.enabled'];
  if (enabled === undefined || enabled.toLowerCase() === 'false') return undefined;
  if (enabled.toLowerCase() !== 'true') throw configError(`'table.exec.mini-batch.enabled' must be 'true' or 'false', got '${enabled}'`);
  const latencyText = config['table.exec.mini-batch.allow-latency'];
  const latencyMs = latencyText === undefined ? 0 : durationMs(latencyText);
  if (latencyMs === null)
    throw configError(`'table.exec.mini-batch.allow-latency' must be a duration like '2 s' or '500 ms', got '${latencyText}'`);
  if (latencyMs <= 0)
    throw configError(
      `'table.exec.mini-batch.allow-latency' must be greater than 0 when 'table.exec.mini-batch.enabled' is 'true' (got ${latencyText === undefined ? 'nothing' : `'${latencyText}'`}); e.g. SET 'table.exec.mini-batch.allow-latency' = '2 s'`,
    );
  const sizeText = config['table.exec.mini-batch.size'];
  const size = sizeText === undefined ? -1 : Number(sizeText);
  if (!Number.isSafeInteger(size) || size <= 0)
    throw configError(
      `'table.exec.mini-batch.size' must be a whole number greater than 0 when 'table.exec.mini-batch.enabled' is 'true' (got ${sizeText === undefined ? 'nothing' : `'${sizeText}'`}); e.g. SET 'table.exec.mini-batch.size' = '5000'`,
    );
  return { latencyMs, size };
}

/** One key's buffered rows, in arrival order, and the last one's timestamp. */
interface Bundle {
  rows: Row[];
  timestamp: number | undefined;
}

/**
 * Flink's MiniBatchGroupAggFunction in a KeyedMapBundleOperator: rows are buffered per key (not in
 * state); a flush applies each key's rows to its group state in order and emits one change per key:
 * `+I` for a new group, `-U`/`+U` when its results changed over the batch (nothing when they did
 * not), `-D` when its last row left. Leading retractions of a key without state are dropped, as
 * each would be one at a time. A flush happens when `size` rows are buffered, `latencyMs` after the
 * first row of a batch (a processing-time timer), at every watermark (before it goes on), before
 * every checkpoint barrier (so the buffer never needs to be in a checkpoint) and at end of input.
 * State is the same as the per-row operator's ('group' value state), so a savepoint of one restores
 * into the other.
 */
export class MiniBatchGroupAggOperator extends AbstractStreamOperator {
  private backend!: KeyedStateBackend;
  private state!: ValueState<GroupState>;
  private readonly aggs: RetractingAggregates;
  private readonly project: (g: { k: unknown[]; a: unknown[] }) => Row | null;
  private buffer = new Map<string, Bundle>();
  private buffered = 0;
  private cancelTimer: (() => void) | undefined;

  constructor(
    name: string,
    private readonly node: GroupAggNode,
    readonly keySelector: (value: unknown) => unknown,
    private readonly miniBatch: MiniBatch,
  ) {
    super(name);
    this.aggs = new RetractingAggregates(node.aggs);
    this.project = compileGroupProjection(node);
  }

  inputKeySelector(): (value: unknown) => unknown {
    return this.keySelector;
  }

  override setup(context: OperatorContext, output: Output): void {
    super.setup(context, output);
    this.backend = context.keyedBackend();
    this.state = this.backend.getValueState(new ValueStateDescriptor<GroupState>('group'));
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    this.recordsIn++;
    const key = this.keySelector(value) as string;
    let bundle = this.buffer.get(key);
    if (bundle === undefined) {
      bundle = { rows: [], timestamp };
      this.buffer.set(key, bundle);
      // a backend on disk keeps the key's state resident until the flush reads it
      this.backend.retainKey?.(key);
    }
    bundle.rows.push(value as Row);
    bundle.timestamp = timestamp;
    if (++this.buffered === 1 && this.cancelTimer === undefined) {
      const at = this.context.processingTime.now() + this.miniBatch.latencyMs;
      this.cancelTimer = this.context.processingTime.registerTimer(at, () => {
        this.cancelTimer = undefined;
        this.flush();
      });
    }
    if (this.buffered >= this.miniBatch.size) this.flush();
  }

  override processWatermark(timestamp: number): void {
    this.flush();
    super.processWatermark(timestamp);
  }

  prepareSnapshotPreBarrier(): void {
    this.flush();
  }

  override endInput(): void {
    this.flush();
  }

  override async close(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await super.close();
  }

  /** Applies every buffered key's rows to its state and emits its change. */
  private flush(): void {
    if (this.buffered === 0) return;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const buffer = this.buffer;
    this.buffer = new Map();
    this.buffered = 0;
    for (const [key, bundle] of buffer) {
      this.backend.setCurrentKey(key);
      try {
        this.apply(key, bundle);
      } finally {
        this.backend.releaseKey?.(key);
      }
    }
  }

  private apply(key: string, bundle: Bundle): void {
    const rows = bundle.rows;
    let st = this.state.value();
    let i = 0;
    const first = st === undefined || st === null;
    if (first) {
      while (i < rows.length && isRetraction(rows[i])) i++;
      if (i === rows.length) return;
      st = this.aggs.create();
    }
    const group = st as GroupState;
    const before = first ? undefined : this.aggs.results(group);
    for (; i < rows.length; i++) this.aggs.apply(group, rows[i], isRetraction(rows[i]) ? -1 : 1);
    const keys = JSON.parse(key) as unknown[];
    if (group.rows > 0) {
      this.state.update(group);
      const after = this.aggs.results(group);
      if (before === undefined) this.emit(keys, after, undefined, bundle.timestamp);
      else if (!sameResults(before, after)) {
        this.emit(keys, before, '-U', bundle.timestamp);
        this.emit(keys, after, '+U', bundle.timestamp);
      }
    } else {
      this.state.clear();
      if (before !== undefined) this.emit(keys, before, '-D', bundle.timestamp);
    }
  }

  private emit(k: unknown[], a: unknown[], kind: RowKind | undefined, timestamp: number | undefined): void {
    const o = this.project({ k, a });
    if (o === null) return;
    if (kind !== undefined) o[ROW_KIND] = kind;
    this.recordsOut++;
    this.output.collect(o, timestamp);
  }
}

function isRetraction(r: Row): boolean {
  const kind = r[ROW_KIND] as RowKind | undefined;
  return kind === '-U' || kind === '-D';
}

function sameResults(a: unknown[], b: unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
