// Maps a config key path as ConfigError names it (`components.muc.labels.SECRET.classification`,
// `policies[1]`) to its line in the YAML file, with the `yaml` package's node ranges. Mapping keys
// may themselves contain dots (domains): at each level the longest key that matches is taken.
import { readFileSync } from "node:fs";
import { ConfigError } from "@cordon/component";
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from "yaml";

/** The 1-based line of `keyPath` (or of its deepest existing ancestor); undefined if none. */
export function lineOfKey(text: string, keyPath: string): number | undefined {
  const counter = new LineCounter();
  let doc;
  try {
    doc = parseDocument(text, { lineCounter: counter, keepSourceTokens: false });
  } catch {
    return undefined;
  }
  let node: unknown = doc.contents;
  let rest = keyPath;
  let offset: number | undefined;
  while (rest.length > 0 && node) {
    if (rest.startsWith("[")) {
      const m = /^\[(\d+)\]\.?/u.exec(rest);
      if (!m || !isSeq(node)) break;
      const item = node.items[Number(m[1])] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
      rest = rest.slice(m[0].length);
      continue;
    }
    if (!isMap(node)) break;
    let best: { key: string; value: unknown; start: number | undefined } | undefined;
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key === undefined || !rest.startsWith(key)) continue;
      const next = rest.charAt(key.length);
      if (next !== "" && next !== "." && next !== "[") continue;
      if (!best || key.length > best.key.length)
        best = { key, value: pair.value, start: (pair.key as Node).range?.[0] };
    }
    if (!best) break;
    offset = best.start ?? offset;
    node = best.value;
    rest = rest.slice(best.key.length);
    if (rest.startsWith(".")) rest = rest.slice(1);
  }
  return offset === undefined ? undefined : counter.linePos(offset).line;
}

/** `lineOfKey` for a file on disk (undefined when it cannot be read). */
export function lineOfKeyInFile(file: string, keyPath: string): number | undefined {
  try {
    return lineOfKey(readFileSync(file, "utf8"), keyPath);
  } catch {
    return undefined;
  }
}

/** "FILE:LINE: " prefix text for a ConfigError-like error, or "" when unknown. */
export function configErrorLine(error: unknown, file: string | undefined): number | undefined {
  const key = (error as { key?: unknown }).key;
  if (!file || typeof key !== "string" || key.startsWith("(")) return undefined;
  return lineOfKeyInFile(file, key);
}

/** A ConfigError from `file` re-issued with the line of its key ("FILE:LINE: key: …"); others unchanged. */
export function withConfigLine(error: unknown, file: string): unknown {
  if (!(error instanceof ConfigError)) return error;
  const line = configErrorLine(error, file);
  if (line === undefined || !error.message.startsWith(`${file}: `)) return error;
  return new ConfigError(
    error.key,
    error.message.slice(file.length + 2 + error.key.length + 2),
    `${file}:${line}`,
  );
}
