// The admin API over a real HTTP server on 127.0.0.1 with stub providers.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { PolicyRegistry } from "@cordon/policy";
import { MemoryStore } from "@cordon/store";
import { createAdminHandler, type AdminProviders, type ComponentReadiness } from "../../src/admin/handler.js";
import { startAdminServer, type AdminServer } from "../../src/admin/server.js";
import { PolicyReloadError } from "../../src/ops-errors.js";

const registry = new PolicyRegistry();
const policy = registry.loadFileSync(
  resolve(dirname(fileURLToPath(import.meta.url)), "../../../../../deploy/quickstart/demo-policy.xml"),
);
const store = new MemoryStore();

const TOKEN = "test-token-0123456789";
const OCTETS = { "content-type": "application/octet-stream" };
const JSON_TYPE = { "content-type": "application/json" };

describe("admin API", () => {
  let server: AdminServer;
  let open: AdminServer;
  const state = {
    components: [
      {
        name: "muc",
        ready: true,
        links: [
          { domain: "rooms.example.test", status: "online", online: true, queueDepth: 0, reconnects: 0 },
        ],
      },
    ] as ComponentReadiness[],
    reloadFails: false,
    generation: 1,
  };
  const providers: AdminProviders = {
    components: () => state.components,
    metrics: async () => ({ contentType: "text/plain; version=0.0.4; charset=utf-8", body: "cordon_up 1\n" }),
    people: {
      registry: () => registry,
      governing: () => policy,
      store,
      async reload() {
        if (state.reloadFails) throw new PolicyReloadError("policy.xml: not a SPIF", "policy.xml");
        return { generation: ++state.generation, policies: [{ id: "1.2.3", name: "Demo" }] };
      },
    },
  };

  before(async () => {
    server = await startAdminServer({
      host: "127.0.0.1",
      port: 0,
      handler: createAdminHandler(providers, { token: TOKEN }),
    });
    open = await startAdminServer({ host: "127.0.0.1", port: 0, handler: createAdminHandler(providers) });
  });
  after(async () => {
    await server.close();
    await open.close();
  });

  const call = async (
    path: string,
    init: RequestInit = {},
    token: string | null = TOKEN,
    base = server.url,
  ) => {
    const res = await fetch(`${base}${path}`, {
      ...init,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(init.headers as Record<string, string> | undefined),
      },
    });
    const text = await res.text();
    return {
      status: res.status,
      type: res.headers.get("content-type") ?? "",
      text,
      json: res.headers.get("content-type")?.startsWith("application/json")
        ? (JSON.parse(text) as Record<string, unknown>)
        : undefined,
      headers: res.headers,
    };
  };

  /** A request with exactly these headers (fetch would set Host itself), with the token. */
  const raw = (
    target: AdminServer,
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<{ status: number; code: string | undefined }> =>
    new Promise((resolve, reject) => {
      const url = new URL(target.url);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method,
          path,
          setHost: false,
          headers: { authorization: `Bearer ${TOKEN}`, host: url.host, ...headers },
        },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString("utf8")));
          res.on("end", () => {
            let code: string | undefined;
            try {
              code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
            } catch {
              code = undefined;
            }
            resolve({ status: res.statusCode ?? 0, code });
          });
        },
      );
      req.on("error", reject);
      req.end(body);
    });

  test("/health answers without a token", async () => {
    const r = await call("/health", {}, null);
    assert.equal(r.status, 200);
    assert.equal(r.json?.status, "ok");
  });

  test("a missing or wrong token is refused with 401 and a stable code", async () => {
    for (const token of [null, "wrong-token-0123456789", `${TOKEN}x`]) {
      const r = await call("/ready", {}, token);
      assert.equal(r.status, 401);
      assert.deepEqual((r.json?.error as { code: string }).code, "CORDON_ADMIN_UNAUTHORIZED");
      assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer/);
    }
  });

  test("without a token the API answers only /health (fail closed; issue 16 item 12)", async () => {
    assert.equal((await call("/ready", {}, null, open.url)).status, 401);
    assert.equal((await call("/ready", {}, "anything-0123456789", open.url)).status, 401);
    assert.equal((await call("/health", {}, null, open.url)).status, 200);
  });

  test("a Host that is not the API's (DNS rebinding) is refused before anything else (issue 16 item 12)", async () => {
    const port = new URL(server.url).port;
    const jid = encodeURIComponent("carol@example.test");
    for (const host of [
      "rebind.attacker.example",
      `rebind.attacker.example:${port}`,
      "evil.localhost",
      "127.0.0.1.nip.io",
      "",
    ]) {
      const r = await raw(
        server,
        "PUT",
        `/clearances/${jid}`,
        { host, "content-type": "application/json" },
        "TOP",
      );
      assert.equal(r.status, 403, host);
      assert.equal(r.code, "CORDON_ADMIN_HOST_REFUSED");
    }
    assert.equal((await store.getUserClearance("carol@example.test")).status, "none");
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`])
      assert.equal((await raw(server, "GET", "/ready", { host })).status, 200, host);
    const named = await startAdminServer({
      host: "127.0.0.1",
      port: 0,
      handler: createAdminHandler(providers, { token: TOKEN, hosts: ["admin.example.mil"] }),
    });
    const namedPort = new URL(named.url).port;
    assert.equal((await raw(named, "GET", "/ready", { host: `admin.example.mil:${namedPort}` })).status, 200);
    assert.equal((await raw(named, "GET", "/ready", { host: `other.example.mil:${namedPort}` })).status, 403);
    await named.close();
  });

  test("cross-origin requests and text/plain or form bodies are refused (issue 16 item 12)", async () => {
    const port = new URL(server.url).port;
    const evil = await raw(server, "POST", "/policies/reload", {
      origin: "https://evil.example",
      "content-type": "application/json",
    });
    assert.equal(evil.status, 403);
    assert.equal(evil.code, "CORDON_ADMIN_CROSS_ORIGIN");
    assert.equal((await raw(server, "GET", "/ready", { origin: "null" })).status, 403);
    const generation = state.generation;
    for (const type of [
      undefined,
      "text/plain",
      "text/plain;charset=UTF-8",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      const r = await raw(server, "POST", "/policies/reload", type ? { "content-type": type } : {}, "{}");
      assert.equal(r.status, 415, String(type));
      assert.equal(r.code, "CORDON_ADMIN_UNSUPPORTED_MEDIA_TYPE");
      const put = await raw(
        server,
        "PUT",
        "/clearances/carol%40example.test",
        type ? { "content-type": type } : {},
        "TOP",
      );
      assert.equal(put.status, 415, String(type));
    }
    assert.equal(state.generation, generation, "no reload happened");
    const same = await raw(server, "POST", "/policies/reload", {
      origin: `http://127.0.0.1:${port}`,
      "content-type": "application/json",
    });
    assert.equal(same.status, 200, "same-origin with JSON is accepted");
  });

  test("/ready is 200 when every link is online and 503 with the details otherwise", async () => {
    assert.equal((await call("/ready")).status, 200);
    state.components = [
      { name: "muc", ready: true, links: [] },
      {
        name: "catalog",
        ready: false,
        links: [
          {
            domain: "catalog.example.test",
            status: "connecting",
            online: false,
            queueDepth: 3,
            reconnects: 2,
          },
        ],
      },
    ];
    const r = await call("/ready");
    assert.equal(r.status, 503);
    assert.equal(r.json?.ready, false);
    assert.equal((r.json?.components as ComponentReadiness[])[1]?.links[0]?.status, "connecting");
    state.components = [];
    assert.equal((await call("/ready")).status, 503, "no component at all is not ready");
  });

  test("/rooms without a MUC is 404 CORDON_ADMIN_NOT_RUNNING (the rooms area: routes/rooms.test.ts)", async () => {
    const r = await call("/rooms");
    assert.equal(r.status, 404);
    assert.equal((r.json?.error as { code: string }).code, "CORDON_ADMIN_NOT_RUNNING");
  });

  test("/peerings without a relay is 404 CORDON_ADMIN_NOT_RUNNING", async () => {
    const r = await call("/peerings");
    assert.equal(r.status, 404);
    assert.equal((r.json?.error as { code: string }).code, "CORDON_ADMIN_NOT_RUNNING");
  });

  test("PUT, GET and DELETE /clearances/{jid}", async () => {
    const jid = encodeURIComponent("dave@example.test");
    const body = JSON.stringify({ classifications: ["SECRET"] });
    const put = await call(`/clearances/${jid}`, { method: "PUT", body, headers: JSON_TYPE });
    assert.equal(put.status, 200);
    assert.deepEqual(put.json?.marking, { text: "{SECRET}", fg: "white", bg: "red" });
    assert.deepEqual((await call(`/clearances/${jid}`)).json?.marking, put.json?.marking);
    const bad = await call(`/clearances/${jid}`, { method: "PUT", body: "bad", headers: OCTETS });
    assert.equal(bad.status, 400);
    assert.equal((bad.json?.error as { code: string }).code, "CORDON_ADMIN_BAD_REQUEST");
    assert.equal((await call(`/clearances/${jid}`, { method: "DELETE", headers: JSON_TYPE })).status, 200);
    const gone = await call(`/clearances/${jid}`, { method: "DELETE", headers: JSON_TYPE });
    assert.equal(gone.status, 404);
    assert.equal((await call(`/clearances/${jid}`)).status, 404);
  });

  test("POST /policies/reload: 200 with the new generation, 422 when rejected", async () => {
    const ok = await call("/policies/reload", { method: "POST", headers: JSON_TYPE });
    assert.equal(ok.status, 200);
    assert.equal(ok.json?.generation, state.generation);
    state.reloadFails = true;
    const rejected = await call("/policies/reload", { method: "POST", headers: JSON_TYPE });
    assert.equal(rejected.status, 422);
    assert.equal((rejected.json?.error as { code: string }).code, "CORDON_POLICY_RELOAD_REJECTED");
    assert.match((rejected.json?.error as { message: string }).message, /not a SPIF/);
  });

  test("/metrics is served as Prometheus text", async () => {
    const r = await call("/metrics");
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/plain/);
    assert.equal(r.text, "cordon_up 1\n");
  });

  test("unknown paths are 404 and wrong methods 405 with Allow", async () => {
    const r = await call("/nope");
    assert.equal(r.status, 404);
    assert.equal((r.json?.error as { code: string }).code, "CORDON_ADMIN_NOT_FOUND");
    const m = await call("/policies/reload");
    assert.equal(m.status, 405);
    assert.equal(m.headers.get("allow"), "POST");
  });

  test("a body over the limit is refused with 413", async () => {
    const r = await call(`/clearances/x%40example.test`, {
      method: "PUT",
      body: "x".repeat(70 * 1024),
      headers: OCTETS,
    });
    assert.equal(r.status, 413);
    assert.equal((r.json?.error as { code: string }).code, "CORDON_ADMIN_BODY_TOO_LARGE");
  });

  test("the file paths (SPIF upload, bulk import) take bodies up to 2 MiB, no more", async () => {
    // 100 KiB of CSV rows: read whole (a preview answers), where any other path stops at 64 KiB.
    const rows = Array.from({ length: 2500 }, (_, i) => `user${i}@example.test,,SECRET`).join("\n");
    assert.ok(rows.length > 70 * 1024);
    const preview = await call("/clearances/import?dryRun=1", {
      method: "POST",
      body: rows,
      headers: OCTETS,
    });
    assert.equal(preview.status, 200, preview.text.slice(0, 200));
    assert.equal((preview.json?.rows as unknown[]).length, 2500);
    const huge = await call("/policies", {
      method: "POST",
      body: "x".repeat(2 * 1024 * 1024 + 1),
      headers: { "content-type": "application/xml" },
    });
    assert.equal(huge.status, 413);
  });
});
