// Reads the repository's TypeScript sources for the catalog test: every `CORDON_*` string
// literal, and every class with the code its constructor passes to `super(...)`.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

export interface SourceFile {
  path: string;
  text: string;
}

export interface ErrorClass {
  name: string;
  base: string;
  code: string | undefined;
  file: string;
}

const CODE_LITERAL = /(["'`])(CORDON_[A-Z0-9_]+)\1/g;

/** Every `.ts` file under packages/<name>/src (compiled output and dependencies excluded). */
export function sourceFiles(root: string): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith(".ts") && !name.endsWith(".d.ts"))
        out.push({ path: relative(root, path), text: readFileSync(path, "utf8") });
    }
  };
  const packages = join(root, "packages");
  for (const pkg of readdirSync(packages)) {
    const src = join(packages, pkg, "src");
    try {
      if (statSync(src).isDirectory()) walk(src);
    } catch {
      // a package without sources (being created) has no codes
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * `CORDON_*` string literals used as codes, with where they occur. A literal on a line that reads
 * `process.env` names an environment variable (e.g. CORDON_ADMIN_TOKEN), not a code.
 */
export function codeLiterals(files: readonly SourceFile[]): Map<string, string[]> {
  const codes = new Map<string, string[]>();
  for (const file of files) {
    file.text.split("\n").forEach((line, index) => {
      if (line.includes("process.env")) return;
      for (const match of line.matchAll(CODE_LITERAL)) {
        const code = match[2]!;
        codes.set(code, [...(codes.get(code) ?? []), `${file.path}:${index + 1}`]);
      }
    });
  }
  return codes;
}

/** The text between the brace at `open` and its matching closing brace. */
function braceBody(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

/** Every `class X extends Y` with the code literal it passes to super() or assigns to `code`. */
export function errorClasses(files: readonly SourceFile[]): ErrorClass[] {
  const classes: ErrorClass[] = [];
  const header = /\bclass\s+(\w+)(?:<[^>]*>)?\s+extends\s+([\w.]+)(?:<[^{]*>)?\s*\{/g;
  for (const file of files) {
    for (const match of file.text.matchAll(header)) {
      const body = braceBody(file.text, match.index + match[0].length - 1);
      const code =
        /\bsuper\(\s*(["'`])(CORDON_[A-Z0-9_]+)\1/.exec(body)?.[2] ??
        /\bcode\s*=\s*(["'`])(CORDON_[A-Z0-9_]+)\1/.exec(body)?.[2];
      classes.push({ name: match[1]!, base: match[2]!, code, file: file.path });
    }
  }
  return classes;
}
