//! Channel state of an unaligned checkpoint: the in-flight batches of a subtask's input and output channels, as stored and restored.

import { Packr } from 'msgpackr';
import { TAG_BARRIER, TAG_END, TAG_LATENCY, elementWidth, type ElementBatch } from '../core/elements.ts';
import { ErrorCodes, WeirError } from '../core/errors.ts';

/** Separates an operator id from the channel-state mark in checkpoint entry names. */
const CHANNEL_STATE_MARK = '\u0001channels';

/** The entry name of a subtask's channel state, kept with the head operator of its chain. */
export function channelStateEntry(headOperatorId: string): string {
  return `${headOperatorId}${CHANNEL_STATE_MARK}`;
}

/** The head operator id of a channel-state entry name, or undefined for any other entry. */
export function parseChannelStateEntry(name: string): string | undefined {
  return name.endsWith(CHANNEL_STATE_MARK) ? name.slice(0, -CHANNEL_STATE_MARK.length) : undefined;
}

/** One channel's in-flight data: its name (`producer[i] -> consumer[j]`) and its batches, each msgpack-encoded. */
export interface ChannelData {
  name: string;
  batches: Uint8Array[];
}

/**
 * What a subtask's unaligned checkpoint holds beyond operator state (Flink's channel state):
 * per input channel, the batches its barrier overtook or that were consumed after the snapshot
 * and before the barrier; per output channel, the batches not yet shipped when the barrier
 * overtook them. On restore the outputs are shipped again first and the inputs are processed
 * before any new input, so every channel carries exactly what it carried at the checkpoint.
 */
export interface ChannelStateSnapshot {
  version: 1;
  /** Per input channel, in mailbox channel order. */
  inputs: ChannelData[];
  /** Per output channel, in the subtask's writer order. */
  outputs: ChannelData[];
}

/** Channel state ready for a subtask: decoded batches per input channel and per output writer. */
export interface RestoredChannelState {
  inputs: ElementBatch[][];
  outputs: ElementBatch[][];
}

const packr = new Packr({ useRecords: true });

/** Encodes one batch of in-flight data into bytes of its own. */
export function encodeChannelBatch(batch: ElementBatch): Uint8Array {
  // A copy: msgpackr reuses its buffer.
  return new Uint8Array(packr.pack(batch));
}

/** Encodes a subtask's channel state. */
export function encodeChannelState(state: ChannelStateSnapshot): Uint8Array {
  return new Uint8Array(packr.pack(state));
}

/** Decodes a channel-state entry. */
export function decodeChannelState(bytes: Uint8Array): ChannelStateSnapshot {
  return packr.unpack(bytes) as ChannelStateSnapshot;
}

/** Whether a channel state holds any in-flight batch. */
export function hasInFlightData(state: ChannelStateSnapshot | undefined): boolean {
  if (!state) return false;
  return state.inputs.some((c) => c.batches.length > 0) || state.outputs.some((c) => c.batches.length > 0);
}

/**
 * The data elements of `batch` from index `from`, up to (not including) the barrier of checkpoint
 * `stopAt` if the batch holds it: what is replayed after a restore. Barriers, ends of input and
 * latency markers are left out: a restored channel gets its own from the live stream.
 */
export function inFlightElements(batch: ElementBatch, from: number, stopAt: number): ElementBatch {
  const out: ElementBatch = [];
  for (let i = from; i < batch.length; ) {
    const tag = batch[i] as number;
    const width = elementWidth(tag);
    if (tag === TAG_BARRIER) {
      if (batch[i + 1] === stopAt) break;
    } else if (tag !== TAG_END && tag !== TAG_LATENCY) {
      for (let k = 0; k < width; k++) out.push(batch[i + k]);
    }
    i += width;
  }
  return out;
}

/**
 * Decodes channel state for a subtask, checking that its channels are the ones the state was
 * taken on (same names in the same order); anything else is a clear error, since in-flight data
 * cannot be handed to other channels.
 */
export function restoreChannelState(
  state: ChannelStateSnapshot,
  inputNames: readonly string[],
  outputNames: readonly string[],
  where: { operator: string; subtask: number },
): RestoredChannelState {
  const check = (kind: string, stored: ChannelData[], now: readonly string[]) => {
    const same = stored.length === now.length && stored.every((c, i) => c.name === now[i]);
    if (same) return;
    throw new WeirError(
      `cannot restore the in-flight data of an unaligned checkpoint in '${where.operator}' (subtask ${where.subtask}): its ${kind} channels were [${stored.map((c) => c.name).join(', ')}], now [${now.join(', ')}]; in-flight data is restored only on the same channels (same job graph and parallelism): restore from a savepoint (always aligned) to change them`,
      { code: ErrorCodes.STATE_RESTORE, domain: 'user', operator: where.operator, subtask: where.subtask },
    );
  };
  check('input', state.inputs, inputNames);
  check('output', state.outputs, outputNames);
  const decode = (c: ChannelData) => c.batches.map((b) => packr.unpack(b) as ElementBatch);
  return { inputs: state.inputs.map(decode), outputs: state.outputs.map(decode) };
}
