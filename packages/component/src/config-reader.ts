// Typed reading of untrusted configuration values. Every failure is a ConfigError naming the
// key path (e.g. `components.muc.secret`) and what was expected.
import { readFileSync } from "node:fs";
import { ConfigError } from "./errors.js";

export type ConfigObject = Record<string, unknown>;

export class ConfigReader {
  constructor(
    readonly value: ConfigObject,
    readonly path: string,
    readonly file?: string,
  ) {}

  static root(value: unknown, file?: string): ConfigReader {
    if (!isObject(value)) throw new ConfigError("(root)", "expected a mapping of settings", file);
    return new ConfigReader(value, "", file);
  }

  key(name: string): string {
    if (!name) return this.path || "(root)";
    return this.path ? `${this.path}.${name}` : name;
  }

  fail(name: string, message: string): never {
    throw new ConfigError(this.key(name), message, this.file);
  }

  has(name: string): boolean {
    return this.value[name] !== undefined && this.value[name] !== null;
  }

  /** Rejects keys not in `allowed` (typos are the commonest config error). */
  only(allowed: readonly string[]): this {
    for (const name of Object.keys(this.value)) {
      if (!allowed.includes(name))
        this.fail(name, `unknown setting (expected one of: ${allowed.join(", ")})`);
    }
    return this;
  }

  section(name: string): ConfigReader {
    const v = this.value[name];
    if (!isObject(v)) this.fail(name, "expected a mapping");
    return new ConfigReader(v, this.key(name), this.file);
  }

  optionalSection(name: string): ConfigReader | undefined {
    return this.has(name) ? this.section(name) : undefined;
  }

  sections(): [string, ConfigReader][] {
    return Object.keys(this.value).map((name) => [name, this.section(name)]);
  }

  string(name: string, fallback?: string): string {
    const v = this.value[name];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      this.fail(name, "required: expected a string");
    }
    if (typeof v !== "string" || v.length === 0)
      this.fail(name, `expected a non-empty string, got ${describe(v)}`);
    return v;
  }

  optionalString(name: string): string | undefined {
    return this.has(name) ? this.string(name) : undefined;
  }

  integer(name: string, fallback: number | undefined, range: { min?: number; max?: number } = {}): number {
    const v = this.value[name];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      this.fail(name, "required: expected an integer");
    }
    if (typeof v !== "number" || !Number.isInteger(v))
      this.fail(name, `expected an integer, got ${describe(v)}`);
    if (range.min !== undefined && v < range.min) this.fail(name, `expected at least ${range.min}, got ${v}`);
    if (range.max !== undefined && v > range.max) this.fail(name, `expected at most ${range.max}, got ${v}`);
    return v;
  }

  port(name: string, fallback?: number): number {
    return this.integer(name, fallback, { min: 1, max: 65535 });
  }

  boolean(name: string, fallback: boolean): boolean {
    const v = this.value[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== "boolean") this.fail(name, `expected true or false, got ${describe(v)}`);
    return v;
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback?: T): T {
    const v = this.value[name] ?? fallback;
    if (typeof v !== "string" || !choices.includes(v as T))
      this.fail(name, `expected one of ${choices.join(", ")}, got ${describe(this.value[name])}`);
    return v as T;
  }

  stringList(name: string, fallback: string[] = []): string[] {
    const v = this.value[name];
    if (v === undefined || v === null) return fallback;
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string"))
      this.fail(name, "expected a list of strings");
    return v as string[];
  }

  /**
   * Reads `name` with a parser of its own (e.g. @cordon/policy's labelFromSpec). An error it throws
   * naming a key (`key` and `reason`, as SpecError does) becomes a ConfigError for that key.
   */
  parse<T>(name: string, parse: (value: unknown, key: string) => T): T {
    try {
      return parse(this.value[name], this.key(name));
    } catch (error) {
      if (isKeyedError(error)) throw new ConfigError(error.key, error.reason, this.file);
      throw error;
    }
  }

  /**
   * A secret: a literal string, `{ env: NAME }` (environment variable) or `{ file: PATH }`
   * (file contents, trailing newline removed). Secrets never appear in error messages.
   */
  secret(name: string, env: NodeJS.ProcessEnv = process.env): string {
    const v = this.value[name];
    if (typeof v === "string" && v.length > 0) return v;
    if (!isObject(v))
      this.fail(name, "required: expected a secret (a string, { env: NAME } or { file: PATH })");
    if (typeof v.env === "string") {
      const value = env[v.env];
      if (!value) this.fail(name, `environment variable ${v.env} is not set or empty`);
      return value;
    }
    if (typeof v.file === "string") {
      let text: string;
      try {
        text = readFileSync(v.file, "utf8");
      } catch (error) {
        this.fail(
          name,
          `cannot read secret file ${v.file} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
        );
      }
      const trimmed = text.replace(/\r?\n$/, "");
      if (!trimmed) this.fail(name, `secret file ${v.file} is empty`);
      return trimmed;
    }
    this.fail(name, "expected a secret (a string, { env: NAME } or { file: PATH })");
  }
}

function isKeyedError(error: unknown): error is Error & { key: string; reason: string } {
  return (
    error instanceof Error &&
    typeof (error as { key?: unknown }).key === "string" &&
    typeof (error as { reason?: unknown }).reason === "string"
  );
}

export function isObject(v: unknown): v is ConfigObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  return typeof v === "object" ? "a mapping" : `${typeof v} ${JSON.stringify(v)}`;
}
