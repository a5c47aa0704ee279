#!/usr/bin/env node
// The `cordon` command's launcher (the package's `bin`). It is committed, unlike dist/, so that
// `npm install` links `cordon` (node_modules/.bin/cordon: `npx cordon` at the repository root, or
// `npm link -w packages/cli` for the PATH) even before the first build; it runs the built entry
// and says what to do when the build has not run yet.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/src/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    `cordon: not built yet (${fileURLToPath(entry)} is missing): run \`npm run build\` at the repository root first\n`,
  );
  process.exit(2);
}
await import(entry.href);
