//! Outputs that join operators: direct calls inside a chain, record writers to other tasks, fan-out to several.

import { TAG_WATERMARK } from '../core/elements.ts';
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
  constructor(private readonly next: StreamOperator) {}
  collect(value: unknown, timestamp: number | undefined): void {
    this.next.processElement(value, timestamp);
  }
  emitWatermark(timestamp: number): void {
    this.next.processWatermark(timestamp);
  }
}

/** Sends to several outputs (an operator with more than one consumer). */
export class BroadcastingOutput implements Output {
  constructor(private readonly outputs: Output[]) {}
  collect(value: unknown, timestamp: number | undefined): void {
    for (const output of this.outputs) output.collect(value, timestamp);
  }
  emitWatermark(timestamp: number): void {
    for (const output of this.outputs) output.emitWatermark(timestamp);
  }
}

/** Writes records to the channels of one outgoing edge, partitioned by its selector. */
export class RecordWriterOutput implements Output {
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
  emitWatermark(timestamp: number): void {
    for (const writer of this.writers) writer.appendEvent(TAG_WATERMARK, timestamp);
  }
}
