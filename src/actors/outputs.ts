//! Outputs that join operators: direct calls inside a chain, record writers to other tasks, fan-out to main and side outputs.

import { TAG_WATERMARK, TAG_WATERMARK_STATUS } from '../core/elements.ts';
import { userFunctionError } from '../core/errors.ts';
import type { ChannelWriter } from '../mailbox/channel-writer.ts';
import type { Output, StreamOperator } from './operator.ts';

/** Picks the channel of a record (partitioners implement this). */
export interface ChannelSelector {
  /** Every record goes to every channel. */
  readonly broadcast: boolean;
  /** Returns the channel index for a record, in `0 .. channels-1`. */
  selectChannel(value: unknown): number;
}

/** Calls the next operator of a chain directly: no batching, no encoding. */
export class ChainingOutput implements Output {
  /** The last watermark that went through (for samples). */
  lastWatermark = Number.NEGATIVE_INFINITY;
  constructor(private readonly next: StreamOperator) {}
  collect(value: unknown, timestamp: number | undefined): void {
    this.next.processElement(value, timestamp);
  }
  collectSide(): void {}
  emitWatermark(timestamp: number): void {
    this.lastWatermark = timestamp;
    this.next.processWatermark(timestamp);
  }
  emitWatermarkStatus(idle: boolean): void {
    this.next.processWatermarkStatus?.(idle);
  }
}

/** Drops everything (an operator nothing reads from, such as a sink). */
export class NoOutput implements Output {
  /** The last watermark that went through (for samples). */
  lastWatermark = Number.NEGATIVE_INFINITY;
  collect(): void {}
  collectSide(): void {}
  emitWatermark(timestamp: number): void {
    this.lastWatermark = timestamp;
  }
  emitWatermarkStatus(): void {}
}

/**
 * An operator's outputs when it has several consumers or side outputs: records go to the main
 * consumers, side records to the consumers of their tag, watermarks and status to all.
 */
export class FanOutOutput implements Output {
  /** The last watermark that went through (for samples). */
  lastWatermark = Number.NEGATIVE_INFINITY;
  private readonly all: Output[];
  constructor(
    private readonly main: Output[],
    private readonly side: Map<string, Output[]>,
  ) {
    this.all = [...main, ...[...side.values()].flat()];
  }
  collect(value: unknown, timestamp: number | undefined): void {
    const main = this.main;
    for (let i = 0; i < main.length; i++) main[i].collect(value, timestamp);
  }
  collectSide(tag: string, value: unknown, timestamp: number | undefined): void {
    const outputs = this.side.get(tag);
    if (outputs) for (const output of outputs) output.collect(value, timestamp);
  }
  emitWatermark(timestamp: number): void {
    this.lastWatermark = timestamp;
    for (const output of this.all) output.emitWatermark(timestamp);
  }
  emitWatermarkStatus(idle: boolean): void {
    for (const output of this.all) output.emitWatermarkStatus(idle);
  }
}

/** Writes records to the channels of one outgoing edge, partitioned by its selector. */
export class RecordWriterOutput implements Output {
  /** The last watermark that went through (for samples). */
  lastWatermark = Number.NEGATIVE_INFINITY;
  constructor(
    readonly writers: ChannelWriter[],
    private readonly selector: ChannelSelector,
    /** The producing operator, named in selector errors. */
    private readonly operator: string,
    private readonly subtask: number,
  ) {}
  collect(value: unknown, timestamp: number | undefined): void {
    const writers = this.writers;
    if (this.selector.broadcast) {
      for (let i = 0; i < writers.length; i++) writers[i].appendRecord(value, timestamp);
      return;
    }
    let channel: number;
    try {
      channel = this.selector.selectChannel(value);
    } catch (error) {
      throw userFunctionError(error, this.operator, this.subtask, 'key selector');
    }
    writers[channel].appendRecord(value, timestamp);
  }
  collectSide(): void {}
  emitWatermark(timestamp: number): void {
    this.lastWatermark = timestamp;
    for (const writer of this.writers) writer.appendEvent(TAG_WATERMARK, timestamp);
  }
  emitWatermarkStatus(idle: boolean): void {
    for (const writer of this.writers) writer.appendEvent(TAG_WATERMARK_STATUS, idle ? 1 : 0);
  }
}
