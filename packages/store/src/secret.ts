// Where a secret (the LDAP bind password) comes from: a file (e.g. a mounted secret), an
// environment variable, or a literal (tests). Read at each bind so a rotated secret is picked up.
import { readFileSync } from "node:fs";
import { SecretUnavailableError } from "./errors.js";

export type SecretSource = { file: string } | { env: string } | { value: string };

export function readSecret(source: SecretSource): string {
  if ("value" in source) return source.value;
  if ("env" in source) {
    const v = process.env[source.env];
    if (v === undefined || v.length === 0)
      throw new SecretUnavailableError(`environment variable ${source.env} is not set`);
    return v;
  }
  try {
    // A single trailing newline (as left by editors and `echo`) is not part of the secret.
    return readFileSync(source.file, "utf8").replace(/\r?\n$/u, "");
  } catch (err) {
    throw new SecretUnavailableError(`cannot read secret file ${source.file}`, { cause: err });
  }
}
