//! Rows of keyed state as the RocksDB backend stores them and its checkpoints carry them: the key encoding of (key group, key) and the row of all of a key's states.

import { Packr } from 'msgpackr';
import type { StateKind } from './descriptors.ts';

/** A row's state: `[name, kind, ttl, namespaces (null = default), values, timestamps | null]`. */
export type RowState = [string, StateKind, boolean, unknown[], unknown[], (number | number[])[] | null];

/** Encodes rows as standard MessagePack (no msgpackr record extension): rows go into checkpoints as they are. */
export const rowPackr = new Packr({ useRecords: false });

/** Database key of a (key group, mapped key): 2 bytes of key group, a type tag, the key. */
export function encodeDbKey(kg: number, mk: unknown): Buffer {
  switch (typeof mk) {
    case 'string': {
      const b = Buffer.allocUnsafe(3 + Buffer.byteLength(mk));
      b.write(mk, 3, 'utf8');
      b[2] = 0x73;
      b[0] = kg >>> 8;
      b[1] = kg & 0xff;
      return b;
    }
    case 'number': {
      const b = Buffer.allocUnsafe(11);
      b[0] = kg >>> 8;
      b[1] = kg & 0xff;
      b[2] = 0x6e;
      b.writeDoubleBE(mk === 0 ? 0 : mk, 3); // -0 and 0 are one Map key
      return b;
    }
    case 'boolean':
      return Buffer.from([kg >>> 8, kg & 0xff, 0x62, mk ? 1 : 0]);
    case 'bigint': {
      const s = mk.toString();
      const b = Buffer.allocUnsafe(3 + s.length);
      b.write(s, 3, 'latin1');
      b[0] = kg >>> 8;
      b[1] = kg & 0xff;
      b[2] = 0x69;
      return b;
    }
    default:
      return Buffer.from([kg >>> 8, kg & 0xff, mk === null ? 0x7a : 0x75]);
  }
}

/** The inverse of {@link encodeDbKey}: `[key group, mapped key]`. */
export function decodeDbKey(b: Buffer): [number, unknown] {
  const kg = (b[0] << 8) | b[1];
  switch (b[2]) {
    case 0x73:
      return [kg, b.toString('utf8', 3)];
    case 0x6e:
      return [kg, b.readDoubleBE(3)];
    case 0x62:
      return [kg, b[3] === 1];
    case 0x69:
      return [kg, BigInt(b.toString('latin1', 3))];
    case 0x7a:
      return [kg, null];
    default:
      return [kg, undefined];
  }
}
