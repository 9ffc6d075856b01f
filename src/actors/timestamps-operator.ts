//! assignTimestampsAndWatermarks: assigns event time to records and generates watermarks in the middle of a stream.

import type { WatermarkGenerator, WatermarkOutput, WatermarkStrategy } from '../time/watermark-strategy.ts';
import { AbstractStreamOperator } from './operators.ts';
import { assignTimestamp, everyWatermarkInterval } from './source-operator.ts';
import type { OperatorContext, Output } from './operator.ts';

/**
 * Flink's TimestampsAndWatermarksOperator: records get the assigner's timestamp; the generator
 * sees every record and is asked periodically; watermarks from upstream are dropped, except the
 * final one at the end of input.
 */
export class TimestampsAndWatermarksOperator extends AbstractStreamOperator {
  private generator!: WatermarkGenerator<unknown>;
  private current = Number.NEGATIVE_INFINITY;
  private idle = false;
  private cancelPeriodic: (() => void) | undefined;
  private ended = false;

  constructor(
    name: string,
    private readonly strategy: WatermarkStrategy<unknown>,
  ) {
    super(name);
  }

  override setup(context: OperatorContext, output: Output): void {
    super.setup(context, output);
    this.generator = this.strategy.createWatermarkGenerator(context.processingTime);
  }

  override async open(): Promise<void> {
    await super.open();
    this.cancelPeriodic = everyWatermarkInterval(
      this.context,
      () => this.ended,
      () => this.generator.onPeriodicEmit(this.generated),
    );
  }

  processElement(value: unknown, timestamp: number | undefined): void {
    this.recordsIn++;
    let ts = timestamp;
    const assigner = this.strategy.timestampAssigner;
    if (assigner) ts = assignTimestamp(assigner, value, timestamp, this.name, this.subtask);
    // As Flink: the record first, then the generator sees it (a punctuated watermark follows it).
    this.recordsOut++;
    this.output.collect(value, ts);
    if (ts !== undefined) this.generator.onEvent(value, ts, this.generated);
  }

  /** Where the generator emits: watermarks only advance; idleness is forwarded as a status. */
  private readonly generated: WatermarkOutput = {
    emitWatermark: (timestamp: number) => {
      this.generated.markActive();
      if (timestamp > this.current) {
        this.current = timestamp;
        this.output.emitWatermark(timestamp);
      }
    },
    markIdle: () => {
      if (this.idle) return;
      this.idle = true;
      this.output.emitWatermarkStatus(true);
    },
    markActive: () => {
      if (!this.idle) return;
      this.idle = false;
      this.output.emitWatermarkStatus(false);
    },
  };

  override processWatermark(timestamp: number): void {
    if (timestamp === Number.POSITIVE_INFINITY) {
      this.ended = true;
      this.cancelPeriodic?.();
      this.generated.markActive();
      this.generated.emitWatermark(timestamp);
    }
  }

  override processWatermarkStatus(): void {
    // This operator decides idleness from its own input, as its generator sees it.
  }

  override async close(): Promise<void> {
    this.ended = true;
    this.cancelPeriodic?.();
    await super.close();
  }
}
