// Console users' password hashes (`admin.console.users[].passwordHash`, made by
// `cordon admin hash-password`): scrypt (RFC 7914) with a random 16-byte salt, written
// `scrypt$N$r$p$SALT$HASH` (base64url). N=2^15, r=8, p=1 (~32 MiB, tens of ms a check).
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from "node:crypto";

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCb(password, salt, keylen, options, (error, key) => (error ? reject(error) : resolve(key))),
  );

export interface PasswordHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

const DEFAULTS = { N: 1 << 15, r: 8, p: 1 };
const KEY_LENGTH = 32;

/** Parses an encoded hash; undefined when it is not one this module writes (or its cost is absurd). */
export function parsePasswordHash(encoded: string): PasswordHash | undefined {
  const m =
    /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{32,128})$/u.exec(
      encoded.trim(),
    );
  if (!m) return undefined;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // A power of two, and bounded so that a config cannot make each login take minutes or GiBs.
  if (N < 1024 || N > 1 << 20 || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  const salt = Buffer.from(m[4]!, "base64url");
  const hash = Buffer.from(m[5]!, "base64url");
  return { N, r, p, salt, hash };
}

export async function hashPassword(password: string, cost = DEFAULTS): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, KEY_LENGTH, {
    ...cost,
    maxmem: 256 * cost.N * cost.r + 1024 * 1024,
  });
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString("base64url")}$${hash.toString("base64url")}`;
}

/** True when `password` matches; a malformed hash never matches. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parsePasswordHash(encoded);
  if (!parsed) return false;
  const { N, r, p, salt, hash } = parsed;
  const got = await scrypt(password, salt, hash.length, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
  return timingSafeEqual(got, hash);
}

/** A hash no password matches, checked for unknown user names so they take as long as known ones. */
export const DUMMY_PASSWORD_HASH = `scrypt$${DEFAULTS.N}$${DEFAULTS.r}$${DEFAULTS.p}$${"A".repeat(22)}$${"A".repeat(43)}`;
