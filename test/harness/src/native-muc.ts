// Shared defaults of the servers' native MUC (XEP-0045) option.
import { InvalidConfigValueError } from "./errors.js";
import type { NativeMucDecl } from "./types.js";

export const DEFAULT_NATIVE_MUC_HISTORY = 10;

/** The room history length to configure: a non-negative integer, 10 unless given. */
export function historyLength(muc: NativeMucDecl): number {
  const n = muc.historyLength ?? DEFAULT_NATIVE_MUC_HISTORY;
  if (!Number.isInteger(n) || n < 0 || n > 10_000)
    throw new InvalidConfigValueError("nativeMuc.historyLength", String(n));
  return n;
}
