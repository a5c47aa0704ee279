#!/usr/bin/env node
// Bundles the browser UI (src/ui, Preact + TSX) with esbuild into dist/assets: app.js, app.css
// (the UI's styles and uPlot's) and index.html. Everything is bundled: the page loads nothing from
// anywhere but the admin listener (CSP 'self', no CDN, no inline script or style).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "dist", "assets");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(here, "src", "ui", "main.tsx") },
  outdir: out,
  bundle: true,
  minify: true,
  sourcemap: false,
  format: "esm",
  target: ["es2022"],
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "none",
  logLevel: "warning",
  metafile: false,
});
copyFileSync(join(here, "src", "ui", "index.html"), join(out, "index.html"));
