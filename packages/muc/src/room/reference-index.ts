// The labels of a room's recent messages by XEP-0359 stanza-id and by the sender's message id, so a
// message that refers to another (security/message-references.ts) can be judged on the label of
// the one it refers to, whether or not the room keeps history. Bounded in bytes per room: the
// oldest are forgotten first, and the labels of forgotten messages are remembered (a few distinct
// labels) so that a reference to a forgotten message is judged against them rather than not at all.
import { ownString } from "./own-string.js";

/** Bytes of references one room keeps (keys and labels, with a fixed cost per key). */
export const REFERENCE_ROOM_BYTES = 256 * 1024;
/** Distinct labels of forgotten messages remembered per room; past it, unknown references are refused. */
export const MAX_FORGOTTEN_LABELS = 32;
const KEY_OVERHEAD = 64;

export class ReferenceIndex {
  // Made at the first message (issue 19): an idle room holds none of them.
  /** id or stanza-id → the labels (policy-rendered <securitylabel/> XML) of the messages that carry it. */
  #labels: Map<string, string[]> | undefined;
  /** Keys oldest first, with what each costs. */
  #order: { key: string; label: string; bytes: number }[] | undefined;
  #head = 0;
  #bytes = 0;
  #forgotten: Set<string> | undefined;
  #forgottenOverflow = false;
  readonly #limit: number;

  constructor(limitBytes = REFERENCE_ROOM_BYTES) {
    this.#limit = limitBytes;
  }

  /** Records a message accepted with `labelXml` under its stanza-id and its id (when it has them). */
  add(keys: readonly (string | undefined)[], labelXml: string): void {
    const labels = (this.#labels ??= new Map<string, string[]>());
    const order = (this.#order ??= []);
    for (const key of keys) {
      if (!key) continue;
      const bytes = key.length * 2 + labelXml.length + KEY_OVERHEAD;
      if (bytes > this.#limit) {
        this.#forget(labelXml);
        continue;
      }
      const list = labels.get(key);
      if (list?.includes(labelXml)) continue;
      // A new key is kept as an own copy, not a slice of the stanza's network chunk (own-string.ts).
      const kept = list ? key : ownString(key);
      if (list) list.push(labelXml);
      else labels.set(kept, [labelXml]);
      order.push({ key: kept, label: labelXml, bytes });
      this.#bytes += bytes;
    }
    while (this.#bytes > this.#limit && this.#head < order.length) this.#evict(labels, order);
    if (this.#head > 1024 && this.#head * 2 > order.length) {
      order.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /**
   * The room carried messages before this index was made — it was loaded from the store (a
   * restart, a failover, another instance) — so what was forgotten is not known: a reference that
   * is not found is refused from now on, as when too many labels were forgotten (adversarial
   * review, issue 15: clients keep what they were shown across a restart, and a reply quoting a
   * SECRET message from before it was judged on its own, default label).
   */
  forgetPast(): void {
    this.#forgottenOverflow = true;
    this.#forgotten = undefined;
  }

  /** The labels recorded for `key` (empty when none is known). */
  lookup(key: string): readonly string[] {
    return this.#labels?.get(key) ?? [];
  }

  /**
   * The labels of messages no longer indexed, against which an unknown reference is judged;
   * undefined when too many distinct ones were forgotten to remember them (refuse).
   */
  forgotten(): readonly string[] | undefined {
    return this.#forgottenOverflow ? undefined : [...(this.#forgotten ?? [])];
  }

  get bytes(): number {
    return this.#bytes;
  }

  #evict(labels: Map<string, string[]>, order: { key: string; label: string; bytes: number }[]): void {
    const oldest = order[this.#head++]!;
    this.#bytes -= oldest.bytes;
    const list = labels.get(oldest.key);
    if (list) {
      const i = list.indexOf(oldest.label);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) labels.delete(oldest.key);
    }
    this.#forget(oldest.label);
  }

  #forget(labelXml: string): void {
    if (this.#forgottenOverflow) return;
    const forgotten = (this.#forgotten ??= new Set<string>());
    if (forgotten.has(labelXml)) return;
    if (forgotten.size >= MAX_FORGOTTEN_LABELS) {
      this.#forgottenOverflow = true;
      this.#forgotten = undefined;
    } else forgotten.add(labelXml);
  }
}
