//! Combines the watermarks of several input channels into one: the minimum over active channels, never going back.

/**
 * Flink's StatusWatermarkValve, reduced to what the runtime needs: per-channel watermark and
 * idleness; the output watermark is the minimum over non-idle channels and only advances.
 *
 * Threading model: one subtask actor's thread.
 */
export class WatermarkValve {
  private readonly watermarks: number[];
  private readonly idle: boolean[];
  private readonly ended: boolean[];
  /** Last watermark emitted downstream. */
  current = Number.NEGATIVE_INFINITY;

  constructor(channels: number) {
    this.watermarks = new Array(channels).fill(Number.NEGATIVE_INFINITY);
    this.idle = new Array(channels).fill(false);
    this.ended = new Array(channels).fill(false);
  }

  /** A channel's watermark arrived; returns the new combined watermark if it advanced. */
  onWatermark(channel: number, timestamp: number): number | undefined {
    if (timestamp > this.watermarks[channel]) this.watermarks[channel] = timestamp;
    return this.advance();
  }

  /** A channel went idle or active; returns the new combined watermark if it advanced. */
  onStatus(channel: number, idle: boolean): number | undefined {
    this.idle[channel] = idle;
    return this.advance();
  }

  /** A channel ended: it no longer holds the watermark back. */
  onEnd(channel: number): number | undefined {
    this.ended[channel] = true;
    return this.advance();
  }

  /** Each channel's watermark (a copy, for samples). */
  channelWatermarks(): number[] {
    return this.watermarks.slice();
  }

  /**
   * The watermark of the channels `of` selects (a logical input of a two-input operator): the
   * minimum over those neither idle nor ended; when all are idle or ended, the highest of them.
   */
  watermarkOf(of: (channel: number) => boolean): number {
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    let active = false;
    for (let i = 0; i < this.watermarks.length; i++) {
      if (!of(i)) continue;
      const w = this.watermarks[i];
      if (w > high) high = w;
      if (this.idle[i] || this.ended[i]) continue;
      active = true;
      if (w < low) low = w;
    }
    return active ? low : high;
  }

  /** Whether every channel that has not ended is idle (and at least one has not ended). */
  allIdle(): boolean {
    let open = 0;
    for (let i = 0; i < this.watermarks.length; i++) {
      if (this.ended[i]) continue;
      open++;
      if (!this.idle[i]) return false;
    }
    return open > 0;
  }

  private advance(): number | undefined {
    let min = Number.POSITIVE_INFINITY;
    let any = false;
    for (let i = 0; i < this.watermarks.length; i++) {
      if (this.idle[i] || this.ended[i]) continue;
      any = true;
      if (this.watermarks[i] < min) min = this.watermarks[i];
    }
    if (!any) return undefined;
    if (min > this.current) {
      this.current = min;
      return min;
    }
    return undefined;
  }
}
