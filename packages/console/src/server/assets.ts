// The console's built files (dist/assets: index.html, app.js, app.css), read once into memory and
// served under /console/ without authentication (they hold no data: everything the page shows
// comes from the authenticated API). Only the files the build wrote are served: no path from the
// request ever reaches the file system.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const CONSOLE_PATH = "/console";

/** Where the package's build writes the browser assets. */
export const ASSETS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../assets");

export interface Asset {
  contentType: string;
  body: Uint8Array;
  etag: string;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".map": "application/json; charset=utf-8",
};
const MAX_ASSET_BYTES = 8 * 1024 * 1024;

export class ConsoleAssets {
  readonly #files = new Map<string, Asset>();

  /** Reads the assets; an absent directory gives an empty set (the console answers 404). */
  constructor(dir: string = ASSETS_DIR) {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const ext = /\.[a-z]+$/u.exec(name)?.[0] ?? "";
      const type = TYPES[ext];
      const path = join(dir, name);
      if (!type || !statSync(path).isFile() || statSync(path).size > MAX_ASSET_BYTES) continue;
      const body = readFileSync(path);
      this.#files.set(name, {
        contentType: type,
        body,
        etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
      });
    }
  }

  get available(): boolean {
    return this.#files.has("index.html");
  }

  /** The asset of a request path under /console, or undefined (not an asset path or not built). */
  lookup(pathname: string): Asset | undefined {
    if (pathname === CONSOLE_PATH || pathname === `${CONSOLE_PATH}/`) return this.#files.get("index.html");
    const m = /^\/console\/(?:assets\/)?([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.[a-z]+)$/u.exec(pathname);
    return m ? this.#files.get(m[1]!) : undefined;
  }
}
