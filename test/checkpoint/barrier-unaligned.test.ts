// Unaligned barrier handling: the first barrier snapshots at once, each channel's barrier closes its in-flight data, the aligned timeout switches over, savepoints stay aligned.
import { describe, expect, it } from 'vitest';
import { BarrierAligner, type Barrier } from '../../src/checkpoint/barrier-aligner.ts';
import { TAG_BARRIER, TAG_END, TAG_RECORD, TAG_TIMED_RECORD, TAG_WATERMARK } from '../../src/core/elements.ts';
import { inFlightElements } from '../../src/checkpoint/channel-state.ts';

const barrier = (id: number, kind: Barrier['kind'] = 'checkpoint', timestamp = Date.now()): Barrier => ({ id, timestamp, kind });

function recorder(channels: number, alignedTimeoutMs = 0) {
  const log: string[] = [];
  const timeouts: { id: number; delayMs: number }[] = [];
  const aligner = new BarrierAligner(
    channels,
    'exactly-once',
    {
      block: (c) => log.push(`block ${c}`),
      unblockAll: () => log.push('unblock'),
      aligned: (b) => log.push(`aligned ${b.id}`),
      aborted: (id) => log.push(`aborted ${id}`),
      startUnaligned: (b) => log.push(`snapshot ${b.id}`),
      channelBarrier: (c, overtook) => log.push(`channel ${c} ${overtook ? 'overtook' : 'in band'}`),
      unalignedComplete: (b) => log.push(`complete ${b.id}`),
      armTimeout: (b, delayMs) => timeouts.push({ id: b.id, delayMs }),
    },
    { enabled: true, alignedTimeoutMs },
  );
  return { aligner, log, timeouts };
}

describe('unaligned barriers', () => {
  it('snapshots at the first barrier, blocks nothing, records the other channels until their barrier, then completes', () => {
    const { aligner, log } = recorder(3);
    aligner.onBarrier(1, barrier(1), true);
    expect(log).toEqual(['snapshot 1', 'channel 1 overtook']);
    expect([0, 1, 2].map((c) => aligner.isRecording(c))).toEqual([true, false, true]);
    aligner.onBarrier(0, barrier(1), true);
    aligner.onEndOfChannel(2);
    expect(log).toEqual(['snapshot 1', 'channel 1 overtook', 'channel 0 overtook', 'complete 1']);
    expect(aligner.recording).toBe(false);
    expect(aligner.current.name).toBe('idle');
  });

  it('a newer barrier gives up the unaligned checkpoint in progress; older ones are stale', () => {
    const { aligner, log } = recorder(2);
    aligner.onBarrier(0, barrier(1), true);
    aligner.onBarrier(0, barrier(2), true);
    aligner.onBarrier(1, barrier(1), true);
    aligner.onBarrier(1, barrier(2), true);
    expect(log).toEqual(['snapshot 1', 'channel 0 overtook', 'aborted 1', 'snapshot 2', 'channel 0 overtook', 'channel 1 overtook', 'complete 2']);
  });

  it('savepoints stay aligned: channels block at their barrier and nothing is recorded', () => {
    const { aligner, log } = recorder(2);
    aligner.onBarrier(0, barrier(1, 'savepoint'));
    expect(aligner.isRecording(1)).toBe(false);
    aligner.onBarrier(1, barrier(1, 'savepoint'));
    expect(log).toEqual(['block 0', 'block 1', 'unblock', 'aligned 1']);
  });

  it('with an aligned timeout, starts aligned and switches to unaligned when it fires: the aligned channel holds no in-flight data', () => {
    const { aligner, log, timeouts } = recorder(2, 1000);
    const b = barrier(1, 'checkpoint', Date.now());
    aligner.onBarrier(0, b);
    expect(log).toEqual(['block 0']);
    expect(timeouts).toHaveLength(1);
    expect(timeouts[0].delayMs).toBeGreaterThan(900);
    aligner.alignmentTimedOut(1);
    expect(log).toEqual(['block 0', 'unblock', 'snapshot 1']);
    expect([aligner.isRecording(0), aligner.isRecording(1)]).toEqual([false, true]);
    aligner.onBarrier(1, b);
    expect(log.slice(3)).toEqual(['channel 1 in band', 'complete 1']);
  });

  it('with an aligned timeout, a barrier triggered longer ago than the timeout starts unaligned, and a priority barrier switches an alignment over', () => {
    const late = recorder(2, 1000);
    late.aligner.onBarrier(0, barrier(1, 'checkpoint', Date.now() - 5000));
    expect(late.log).toEqual(['snapshot 1', 'channel 0 in band']);

    const { aligner, log } = recorder(2, 60_000);
    aligner.onBarrier(0, barrier(1));
    aligner.onBarrier(1, barrier(1), true);
    expect(log).toEqual(['block 0', 'unblock', 'snapshot 1', 'channel 1 overtook', 'complete 1']);
  });

  it('in-flight data keeps records and watermarks, stops at the checkpoint\'s barrier, and leaves out ends of input and other barriers', () => {
    const batch = [TAG_RECORD, 'a', TAG_BARRIER, 3, 0, 0, TAG_TIMED_RECORD, 'b', 7, TAG_WATERMARK, 5, TAG_BARRIER, 4, 0, 0, TAG_RECORD, 'c', TAG_END];
    expect(inFlightElements(batch, 0, 4)).toEqual([TAG_RECORD, 'a', TAG_TIMED_RECORD, 'b', 7, TAG_WATERMARK, 5]);
    expect(inFlightElements(batch, 6, -1)).toEqual([TAG_TIMED_RECORD, 'b', 7, TAG_WATERMARK, 5, TAG_RECORD, 'c']);
  });
});
