//! Stream elements: the tagged union users and tools see, and the flat batch layout the data plane moves.

/** A data record with an optional event-time timestamp. */
export interface RecordElement<T = unknown> {
  kind: 'record';
  value: T;
  timestamp?: number;
}
/** Event-time progress: no record with a timestamp at or below this should follow. */
export interface WatermarkElement {
  kind: 'watermark';
  timestamp: number;
}
/** A checkpoint barrier, in band with the records. */
export interface BarrierElement {
  kind: 'barrier';
  id: number;
  timestamp: number;
  checkpointKind: 'checkpoint' | 'savepoint';
}
/** The producer will send nothing more on this channel. */
export interface EndElement {
  kind: 'end';
}
/** A marker for measuring latency from a source through the graph. */
export interface LatencyMarkerElement {
  kind: 'latency';
  markedTime: number;
  operatorId: string;
  subtask: number;
}
/** The channel became idle (holds no watermark back) or active again. */
export interface WatermarkStatusElement {
  kind: 'watermark-status';
  idle: boolean;
}

/** Everything that flows on a channel, in order. */
export type StreamElement<T = unknown> =
  RecordElement<T> | WatermarkElement | BarrierElement | EndElement | LatencyMarkerElement | WatermarkStatusElement;

/*
 * A batch (a network buffer's worth of elements) is one flat array: each element is a tag followed
 * by its fields. Records cost no wrapper object on the hot path, and msgpack encodes the whole
 * batch as a single array.
 */

/** Tag: record without timestamp; followed by value. */
export const TAG_RECORD = 0;
/** Tag: record with timestamp; followed by value, timestamp. */
export const TAG_TIMED_RECORD = 1;
/** Tag: watermark; followed by timestamp. */
export const TAG_WATERMARK = 2;
/** Tag: barrier; followed by id, timestamp, kind (0 checkpoint, 1 savepoint). */
export const TAG_BARRIER = 3;
/** Tag: end of input; no fields. */
export const TAG_END = 4;
/** Tag: latency marker; followed by markedTime, operatorId, subtask. */
export const TAG_LATENCY = 5;
/** Tag: watermark status; followed by 1 (idle) or 0 (active). */
export const TAG_WATERMARK_STATUS = 6;

/** A flat batch of tagged elements. */
export type ElementBatch = unknown[];

/** Appends one element to a flat batch. */
export function appendElement(batch: ElementBatch, element: StreamElement): void {
  switch (element.kind) {
    case 'record':
      if (element.timestamp === undefined) batch.push(TAG_RECORD, element.value);
      else batch.push(TAG_TIMED_RECORD, element.value, element.timestamp);
      return;
    case 'watermark':
      batch.push(TAG_WATERMARK, element.timestamp);
      return;
    case 'barrier':
      batch.push(TAG_BARRIER, element.id, element.timestamp, element.checkpointKind === 'savepoint' ? 1 : 0);
      return;
    case 'end':
      batch.push(TAG_END);
      return;
    case 'latency':
      batch.push(TAG_LATENCY, element.markedTime, element.operatorId, element.subtask);
      return;
    case 'watermark-status':
      batch.push(TAG_WATERMARK_STATUS, element.idle ? 1 : 0);
      return;
  }
}

/** Number of array slots an element with this tag occupies (tag included). */
export function elementWidth(tag: number): number {
  switch (tag) {
    case TAG_RECORD:
      return 2;
    case TAG_TIMED_RECORD:
      return 3;
    case TAG_WATERMARK:
      return 2;
    case TAG_BARRIER:
      return 4;
    case TAG_END:
      return 1;
    case TAG_LATENCY:
      return 4;
    case TAG_WATERMARK_STATUS:
      return 2;
    default:
      throw new Error(`corrupt batch: unknown element tag ${String(tag)}`);
  }
}

/** Expands a flat batch into tagged elements (for tools and tests; the runtime reads batches in place). */
export function batchToElements(batch: ElementBatch): StreamElement[] {
  const out: StreamElement[] = [];
  let i = 0;
  while (i < batch.length) {
    const tag = batch[i] as number;
    switch (tag) {
      case TAG_RECORD:
        out.push({ kind: 'record', value: batch[i + 1] });
        break;
      case TAG_TIMED_RECORD:
        out.push({ kind: 'record', value: batch[i + 1], timestamp: batch[i + 2] as number });
        break;
      case TAG_WATERMARK:
        out.push({ kind: 'watermark', timestamp: batch[i + 1] as number });
        break;
      case TAG_BARRIER:
        out.push({
          kind: 'barrier',
          id: batch[i + 1] as number,
          timestamp: batch[i + 2] as number,
          checkpointKind: batch[i + 3] === 1 ? 'savepoint' : 'checkpoint',
        });
        break;
      case TAG_END:
        out.push({ kind: 'end' });
        break;
      case TAG_LATENCY:
        out.push({
          kind: 'latency',
          markedTime: batch[i + 1] as number,
          operatorId: batch[i + 2] as string,
          subtask: batch[i + 3] as number,
        });
        break;
      case TAG_WATERMARK_STATUS:
        out.push({ kind: 'watermark-status', idle: batch[i + 1] === 1 });
        break;
    }
    i += elementWidth(tag);
  }
  return out;
}

/** Builds a flat batch from tagged elements. */
export function elementsToBatch(elements: readonly StreamElement[]): ElementBatch {
  const batch: ElementBatch = [];
  for (const element of elements) appendElement(batch, element);
  return batch;
}
