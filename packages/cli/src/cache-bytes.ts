// The byte budget of a cache, as the config file gives it (`cacheBytes` of store.redis, directory and
// components.catalog): an integer or a size such as "16 MiB" (@cordon/component readBytes); 0 turns
// the store's and the directory's caches off.
import { readBytes, type ConfigReader } from "@cordon/component";

/** `key` of `section` as a byte budget; undefined when absent (the component's default). */
export function readCacheBytes(section: ConfigReader, key = "cacheBytes"): number | undefined {
  if (!section.has(key)) return undefined;
  const bytes = readBytes(section, key, 0);
  // ("N GiB" may pass 2^53: the store's own check would fail later without naming the key)
  if (!Number.isSafeInteger(bytes)) return section.fail(key, "too large");
  return bytes;
}
