// Labels kept beyond the stanza they came with (the label caches) hold their own bytes. A label
// decoded from base64 text has as `encoded` a view of Node's shared 8 KiB Buffer pool (the decode
// is kept that cheap per stanza: an ArrayBuffer of its own costs ~0.9 µs, 2.5× a whole parse): a
// stored view kept the whole slab alive — up to 8 KiB for a label its cache counted at its length
// (measured: 20,000 stored 124-byte labels held 164 MB of ArrayBuffers, counted 2.5 MB) — and its
// `.buffer` was other stanzas' bytes. Found in review (adv55).
import type { Label } from "./label.js";

/** True when `bytes` is a view of a larger buffer (a pool slab, a socket read). */
export function sharesBuffer(bytes: Uint8Array): boolean {
  return bytes.byteLength !== bytes.buffer.byteLength;
}

/** `label` as a cache may keep it: its encoded bytes copied out when they are a view of more. */
export function retainedLabel(label: Label): Label {
  const e = label.encoded;
  if (e === undefined || !sharesBuffer(e)) return label;
  return { ...label, encoded: new Uint8Array(e) };
}
