// Renders the admin-facing config snippets in deploy/ so the harness runs exactly what we ship.
// Syntax: {{NAME}} placeholders; a line containing {{#each NAME}} starts a block that is repeated
// once per item of the list NAME and ends at the next line containing {{/each}} (both marker lines
// are dropped). Every placeholder must get a value.
import { readFileSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { InvalidConfigValueError, TemplateError } from "./errors.js";

export type TemplateValues = Record<string, string>;
export interface TemplateData {
  values: TemplateValues;
  lists?: Record<string, TemplateValues[]>;
}

/** Characters safe inside a double-quoted Lua or YAML string and in a bare YAML/Lua number. */
const SAFE_VALUE = /^[A-Za-z0-9._:/@+=~-]*$/;

export function checkConfigValue(name: string, value: string): string {
  if (!SAFE_VALUE.test(value)) throw new InvalidConfigValueError(name, value);
  return value;
}

function substitute(file: string, line: string, values: TemplateValues): string {
  return line.replace(/\{\{([A-Z_]+)\}\}/g, (_m, name: string) => {
    const value = values[name];
    if (value === undefined) throw new TemplateError(file, `no value for placeholder {{${name}}}`);
    return checkConfigValue(name, value);
  });
}

/** Renders template text (`file` names it in errors). */
export function renderTemplate(file: string, text: string, data: TemplateData): string {
  const lines = text.split("\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const open = /\{\{#each ([A-Z_]+)\}\}/.exec(line);
    if (!open) {
      if (line.includes("{{/each}}"))
        throw new TemplateError(file, `line ${i + 1}: {{/each}} without {{#each}}`);
      out.push(substitute(file, line, data.values));
      continue;
    }
    const listName = open[1] ?? "";
    const end = lines.findIndex((l, j) => j > i && l.includes("{{/each}}"));
    if (end < 0) throw new TemplateError(file, `line ${i + 1}: {{#each ${listName}}} is never closed`);
    const body = lines.slice(i + 1, end);
    if (body.some((l) => l.includes("{{#each")))
      throw new TemplateError(file, `line ${i + 1}: nested {{#each}} blocks are not supported`);
    const items = data.lists?.[listName];
    if (items === undefined) throw new TemplateError(file, `no list for {{#each ${listName}}}`);
    for (const item of items) {
      for (const bodyLine of body) out.push(substitute(file, bodyLine, { ...data.values, ...item }));
    }
    i = end;
  }
  return out.join("\n");
}

/** The repository's deploy/ directory (found upwards from this module, in src/ or dist/src/). */
export function deployDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, "deploy");
    if (existsSync(join(candidate, "prosody", "cordon-components.cfg.lua"))) return candidate;
    dir = resolve(dir, "..");
  }
  throw new TemplateError("deploy/", "cannot find the deploy/ directory above the harness");
}

/** Renders deploy/<relativePath>. */
export function renderDeployFile(relativePath: string, data: TemplateData): string {
  const path = join(deployDir(), relativePath);
  return renderTemplate(relativePath, readFileSync(path, "utf8"), data);
}
