// An `audit:` section (components.relay.audit, and the top-level audit of `cordon start` for the
// MUC's and the catalog's decisions and admin changes):
//   file: PATH                 the JSON-lines log (required)
//   key: SECRET                the chain's HMAC key (literal, { env }, { file }; >= 32 characters)
//   keyFile: PATH              without `key`: the key file, generated at first start when missing
//                              (default STATE_DIR/audit-key; `cordon audit verify` reads it)
//   anchorEvery: 100           log the head as an anchor every N records (and every minute)
import type { ConfigReader } from "@cordon/component";
import { DEFAULT_ANCHOR_EVERY, MIN_AUDIT_KEY_LENGTH } from "./audit.js";

export interface AuditSettings {
  file: string;
  /** The configured key; undefined: the one in `keyFile` (the caller's default when absent). */
  key: string | undefined;
  keyFile: string | undefined;
  anchorEvery: number;
}

export const AUDIT_KEYS = ["file", "key", "keyFile", "anchorEvery"] as const;

export function readAuditSection(section: ConfigReader, env: NodeJS.ProcessEnv = process.env): AuditSettings {
  section.only(AUDIT_KEYS);
  const key = section.has("key") ? section.secret("key", env) : undefined;
  if (key !== undefined && key.length < MIN_AUDIT_KEY_LENGTH)
    section.fail(
      "key",
      `too short: use at least ${MIN_AUDIT_KEY_LENGTH} characters (e.g. openssl rand -hex 32)`,
    );
  if (key !== undefined && section.has("keyFile")) section.fail("keyFile", "give either key or keyFile");
  return {
    file: section.string("file"),
    key,
    keyFile: section.optionalString("keyFile"),
    anchorEvery: section.integer("anchorEvery", DEFAULT_ANCHOR_EVERY, { min: 1, max: 1_000_000 }),
  };
}
