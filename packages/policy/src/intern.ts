// One copy of a string for the engine: V8 keeps a single flat copy of every property name, and two
// such copies are compared by identity. The OIDs the decoders read (ber/reader.ts's memo) and the
// keys of the maps they are looked up in (tag sets by id, policies by id) are kept so: a lookup or
// a `switch` on an OID then compares no characters.

/** The engine's one copy of `text` (the name of a property made and dropped here). */
export function internalized(text: string): string {
  // No prototype: on a plain object `holder["__proto__"] = 0` sets the prototype and makes no key
  // (found in review adv12r: internalized("__proto__") was undefined).
  const holder = Object.create(null) as Record<string, number>;
  holder[text] = 0;
  return Object.keys(holder)[0]!;
}
