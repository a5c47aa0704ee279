// Estimates of what the store's cached values hold in memory, for the byte-bounded caches
// (ttl-cache.ts). Strings count two bytes a character (what V8 needs at most: UTF-16) plus a
// header; objects and arrays a fixed overhead and a slot per property or element. The encoding
// names ("ber", "xml") are shared constants and cost nothing of their own.
import type { RawValue } from "./types.js";

const STRING_BYTES = 16;
const OBJECT_BYTES = 48;
const SLOT_BYTES = 8;

/** A string kept in memory. */
export function stringBytes(s: string): number {
  return STRING_BYTES + 2 * s.length;
}

/** A raw clearance or label ({ encoding, data }). */
export function rawValueBytes(v: RawValue): number {
  return OBJECT_BYTES + stringBytes(v.data);
}

/** A list of raw values (an array and its elements). */
export function rawListBytes(list: readonly RawValue[]): number {
  let bytes = OBJECT_BYTES;
  for (const v of list) bytes += SLOT_BYTES + rawValueBytes(v);
  return bytes;
}

/** A record of raw values by name (a user's clearances by policy). */
export function rawRecordBytes(record: Readonly<Record<string, RawValue>>): number {
  let bytes = OBJECT_BYTES;
  for (const [name, v] of Object.entries(record)) bytes += SLOT_BYTES + stringBytes(name) + rawValueBytes(v);
  return bytes;
}
