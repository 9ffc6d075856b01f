//! Partitioners: the channel selectors for forward, rebalance, rescale, broadcast and hash (key groups) edges.

import type { ChannelSelector } from '../actors/outputs.ts';
import { assignToKeyGroup, computeOperatorIndexForKeyGroup, keyHashCode } from '../state/key-groups.ts';
import type { PartitionerKind } from './stream-graph.ts';

class SingleChannel implements ChannelSelector {
  readonly broadcast = false;
  selectChannel(): number {
    return 0;
  }
}

class RoundRobin implements ChannelSelector {
  readonly broadcast = false;
  private next: number;
  constructor(
    private readonly channels: number,
    start: number,
  ) {
    this.next = start % channels;
  }
  selectChannel(): number {
    const channel = this.next;
    this.next = channel + 1 === this.channels ? 0 : channel + 1;
    return channel;
  }
}

class AllChannels implements ChannelSelector {
  readonly broadcast = true;
  selectChannel(): number {
    return 0;
  }
}

/** Routes a record to the subtask owning its key's key group; channel i is consumer subtask i. */
export class KeyGroupSelector implements ChannelSelector {
  readonly broadcast = false;
  constructor(
    private readonly keySelector: (value: unknown) => unknown,
    private readonly maxParallelism: number,
    private readonly channels: number,
  ) {}
  selectChannel(value: unknown): number {
    const key = this.keySelector(value);
    // One consumer: the key group is left to the consumer's backend (computed once a record);
    // the key is still checked here, so that a key that cannot be hashed fails where it is made.
    if (this.channels === 1) {
      keyHashCode(key);
      return 0;
    }
    return computeOperatorIndexForKeyGroup(this.maxParallelism, this.channels, assignToKeyGroup(key, this.maxParallelism));
  }
}

/** Makes the selector of one producer subtask for an edge with `channels` output channels. */
export function createChannelSelector(
  kind: PartitionerKind,
  channels: number,
  producerSubtask: number,
  maxParallelism: number,
  keySelector?: (value: unknown) => unknown,
): ChannelSelector {
  switch (kind) {
    case 'forward':
      return new SingleChannel();
    case 'rebalance':
    case 'rescale':
      return channels === 1 ? new SingleChannel() : new RoundRobin(channels, producerSubtask);
    case 'broadcast':
      return new AllChannels();
    case 'hash':
      return new KeyGroupSelector(keySelector as (value: unknown) => unknown, maxParallelism, channels);
  }
}

/**
 * Which consumer subtasks producer `i` feeds on an edge. All-to-all for rebalance, hash and
 * broadcast; one-to-one for forward; Flink's pointwise ranges for rescale.
 */
export function consumersOf(kind: PartitionerKind, producer: number, producers: number, consumers: number): number[] {
  switch (kind) {
    case 'forward':
      return [producer];
    case 'rescale': {
      if (producers >= consumers) return [Math.floor((producer * consumers) / producers)];
      const out: number[] = [];
      for (let j = 0; j < consumers; j++) if (Math.floor((j * producers) / consumers) === producer) out.push(j);
      return out;
    }
    default:
      return Array.from({ length: consumers }, (_, j) => j);
  }
}
