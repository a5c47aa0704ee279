// A real environment (demo policy in a temporary directory, memory store), a real policy reloader
// and an in-memory audit log, behind the pure admin handler: the people routes' unit tests call
// the handler with requests, no HTTP server.
import { mkdtempSync, copyFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfigFile, silentLogger } from "@cordon/component";
import { MemoryAuditSink } from "@cordon/relay";
import { buildEnvironment, type RuntimeEnvironment } from "../../../src/environment.js";
import { PolicyReloader } from "../../../src/reload.js";
import { createAdminHandler, type AdminResponse } from "../../../src/admin/handler.js";
import { ConsoleAuth } from "../../../src/admin/console.js";
import type { PeopleContext } from "../../../src/admin/routes/people.js";

export const TOKEN = "test-token-0123456789";
export const DEMO_POLICY = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../../../../../deploy/quickstart/demo-policy.xml",
);

export interface Fixture {
  dir: string;
  env: RuntimeEnvironment;
  audit: MemoryAuditSink;
  reloader: PolicyReloader;
  ctx: PeopleContext;
  send(
    method: string,
    path: string,
    body?: string | Uint8Array,
    contentType?: string,
    who?: { user: string; role: "viewer" | "admin" },
  ): Promise<AdminResponse & { body: string; json: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function fixture(extra: Partial<PeopleContext> = {}, config = ""): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), "cordon-people-"));
  copyFileSync(DEMO_POLICY, join(dir, "policy.xml"));
  writeFileSync(
    join(dir, "cordon.yaml"),
    `policies: [policy.xml]\ncomponents: { example: { domain: a.test, secret: s } }\n${config}`,
  );
  const env = await buildEnvironment(loadConfigFile(join(dir, "cordon.yaml")), silentLogger());
  const reloader = new PolicyReloader(env, { logger: silentLogger() });
  const audit = new MemoryAuditSink();
  const ctx: PeopleContext = {
    registry: () => env.registry,
    governing: () => env.governing,
    store: env.store,
    audit,
    reload: () => reloader.reload(),
    uploadPolicy: (text) => reloader.reload({ upload: text }),
    ...extra,
  };
  // `who`: a console session of that user (cookie and CSRF header), as the shell's login makes one.
  const auth = new ConsoleAuth({ token: TOKEN });
  const handler = createAdminHandler(
    { components: () => [], rooms: () => undefined, people: ctx },
    { token: TOKEN, console: auth },
  );
  return {
    dir,
    env,
    audit,
    reloader,
    ctx,
    async send(method, path, body, contentType = "application/json", who) {
      const session = who ? auth.sessions.create(who.user, who.role) : undefined;
      const r = await handler({
        method,
        url: path,
        ...(session
          ? { cookie: `cordon_session=${session.id}`, csrf: session.csrf }
          : { authorization: `Bearer ${TOKEN}` }),
        host: "127.0.0.1:9090",
        contentType,
        body: typeof body === "string" ? Buffer.from(body) : (body ?? new Uint8Array()),
      });
      const text = typeof r.body === "string" ? r.body : Buffer.from(r.body).toString("utf8");
      return { ...r, body: text, json: JSON.parse(text) as Record<string, unknown> };
    },
    async close() {
      await env.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const errorCode = (r: { json: Record<string, unknown> }) =>
  (r.json.error as { code?: string } | undefined)?.code;
