// What the guard's per-message benches share (outbound.mjs, relay-inbound.mjs): their arguments
// (--servers, --messages), the demo policy, Cordon's guard run in the bench's process for a
// server's module, the timing loop (unlabelled then SECRET-labelled messages one at a time, a
// warm-up left out), the percentiles and the report (a JSON line per server on stderr, one JSON
// object as the last line of stdout).
import { performance } from "node:perf_hooks";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";
import { createGuardService } from "@cordon/guard";
import { PolicyRegistry, makeLabel, makeClearance, buildSecurityLabelXml } from "@cordon/policy";

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((pairs, a, i, all) => (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
export const servers = (args.servers ?? "prosody,ejabberd").split(",");
export const messages = Number(args.messages ?? 300);
/** Messages sent first and not timed. */
export const WARMUP = 30;

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const registry = new PolicyRegistry();
export const policy = registry.loadFileSync(resolve(root, "deploy/quickstart/demo-policy.xml"));
export const cls = (n) => policy.classificationByName.get(n);
export const all = policy.classifications;
export const SECRET_XML = buildSecurityLabelXml(makeLabel(policy, cls("SECRET"), []));

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
export const round3 = (x) => Math.round(x * 1000) / 1000;

/**
 * Cordon's guard `guard.${domain}` (secret "guard") for `server`'s module, not started: the demo
 * policy, UNCLASSIFIED by default, every address of 127.0.0.0/8 cleared for everything; `more`
 * adds options (onDecision).
 */
export const benchGuard = (server, domain, store, more = {}) =>
  createGuardService({
    service: `xmpp://127.0.0.1:${server.componentPort}`,
    domain: `guard.${domain}`,
    secret: "guard",
    served: [domain],
    registry,
    store,
    defaultLabel: makeLabel(policy, cls("UNCLASSIFIED"), []),
    locations: [{ ranges: ["127.0.0.0/8"], clearance: makeClearance(policy, all, []) }],
    ...more,
  });

/**
 * For "unlabelled" then "SECRET": WARMUP + messages rounds of `round(label, i, id)`, which returns
 * `{ got, send, done? }` — `got` (the arrival) armed before the clock starts; each round timed from
 * `send()` to `got`, `done()` after. The timed rounds' p50, p90 and p99 in ms, by label.
 */
export async function timeByLabel(round) {
  const out = {};
  for (const label of ["unlabelled", "SECRET"]) {
    const times = [];
    for (let i = 0; i < WARMUP + messages; i++) {
      const { got, send, done } = round(label, i, `${label}-${i}`);
      const t0 = performance.now();
      await send();
      await got;
      if (i >= WARMUP) times.push(performance.now() - t0);
      done?.();
    }
    out[label] = {
      p50: round3(pct(times, 50)),
      p90: round3(pct(times, 90)),
      p99: round3(pct(times, 99)),
    };
  }
  return out;
}

/** What `ms` adds to `base` (timeByLabel results): the difference of the p50s and of the p90s, by label. */
export const addedMs = (ms, base) =>
  Object.fromEntries(
    Object.keys(base).map((l) => [
      l,
      { p50: round3(ms[l].p50 - base[l].p50), p90: round3(ms[l].p90 - base[l].p90) },
    ]),
  );

/**
 * For each server kind: `measure(kind)`'s fields after the server, the messages and the load
 * average, as a JSON line on stderr; then `{ bench, results }` on stdout.
 */
export async function report(bench, measure) {
  const results = [];
  for (const kind of servers) {
    const load = loadavg()[0];
    const row = { server: kind, messages, loadAverage: round3(load), ...(await measure(kind)) };
    console.error(JSON.stringify(row));
    results.push(row);
  }
  console.log(JSON.stringify({ bench, results }));
}
