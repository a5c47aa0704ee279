// The latency the central check adds, measured where it is added: inside the server (issue 17,
// "decision round trip p50/p99", "p99 added latency ≤ 1 ms at 2,000 messages/s"). Each module
// (deploy/prosody, deploy/ejabberd) times, on the server's monotonic clock, every one-to-one
// message it holds — from taking it (before its verdict cache is looked up) to delivering or
// refusing it — by kind: `cached` (served from its verdict cache, verdict-cache.ts) or `asked`
// (the guard was asked), and each question's round trip (sent → verdict received; a question
// with no answer in time has none). It keeps them in fixed buckets (LATENCY_BOUNDS_US, bounded
// memory) and tells the guard, every few seconds, what it observed since its last report:
//
//   <iq type='set' from='example.test' to='guard.example.test' id='…'>
//     <latency xmlns='urn:cordon:guard:0'>
//       <h of='hold' kind='cached' us='1234' b='2:10,3:200'/>     (sum in µs; bucket index:count)
//       <h of='hold' kind='asked' us='…' b='…'/>
//       <h of='round-trip' kind='asked' us='…' b='…'/>
//     </latency></iq>                                        answered with an empty result
//
// Only a served server's own domain may report (as for <served/>, cache-report.ts). A report is
// taken whole or not at all: anything malformed — an unknown histogram, one twice, more than
// three, a bucket index out of range or out of order, a count of 0, padded, signed or over
// MAX_LATENCY_COUNT, a sum not a plain decimal or over MAX_LATENCY_SUM_US, an attribute longer
// than any valid one — is answered bad-request and counts nothing.
import { isElement, type Element } from "@cordon/component";

/**
 * The buckets' upper bounds in µs: 10 µs to 10 s, five a decade (the R5 series 1, 1.6, 2.5, 4,
 * 6.3), so 1 ms is a bound (whether p99 ≤ 1 ms is read exactly). Index 31: above 10 s. The
 * modules keep the same table (mod_cordon_guard.lua LATENCY_BOUNDS, mod_cordon_guard.erl ?BOUNDS).
 */
export const LATENCY_BOUNDS_US: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let decade = 10; decade < 10_000_000; decade *= 10)
    for (const step of [1, 1.6, 2.5, 4, 6.3]) bounds.push(Math.round(decade * step));
  bounds.push(10_000_000);
  return bounds;
})();

/** How many buckets a histogram has: one per bound, and one above the last. */
export const LATENCY_BUCKETS = LATENCY_BOUNDS_US.length + 1;
/** The most one bucket of one report may count (5 s at 200,000 messages/s is 1,000,000). */
export const MAX_LATENCY_COUNT = 1_000_000_000;
/** The largest sum one report may carry: MAX_LATENCY_COUNT messages of 10 s, in µs. */
export const MAX_LATENCY_SUM_US = 1e16;

export type LatencyKind = "cached" | "asked";
export type LatencyOf = "hold" | "round-trip";

/** One histogram's observations since the module's last report. */
export interface LatencyDelta {
  readonly of: LatencyOf;
  readonly kind: LatencyKind;
  /** The observations' sum, in µs. */
  readonly sumUs: number;
  /** Bucket index → count (only the buckets that moved). */
  readonly buckets: ReadonlyMap<number, number>;
}

/** The histograms a module may report: hold per kind, and the question's round trip. */
const KNOWN = new Set(["hold/cached", "hold/asked", "round-trip/asked"]);
/** The longest `b` a valid report has: every bucket, each "NN:NNNNNNNNNN,". */
const MAX_B = LATENCY_BUCKETS * 14;
const DECIMAL = /^(0|[1-9][0-9]{0,16})$/u;

/** The histograms a `<latency/>` reports, or undefined when it is malformed (taken whole or not at all). */
export function readLatencyReport(latency: Element): LatencyDelta[] | undefined {
  const children = latency.children.filter(isElement);
  if (children.length === 0 || children.length > KNOWN.size) return undefined;
  const seen = new Set<string>();
  const out: LatencyDelta[] = [];
  for (const h of children) {
    if (h.name !== "h" || h.children.some(isElement)) return undefined;
    const { of, kind, us, b } = h.attrs;
    const name = `${of}/${kind}`;
    if (!KNOWN.has(name) || seen.has(name)) return undefined;
    seen.add(name);
    if (us === undefined || !DECIMAL.test(us) || Number(us) > MAX_LATENCY_SUM_US) return undefined;
    if (b === undefined || b === "" || b.length > MAX_B) return undefined;
    const buckets = new Map<number, number>();
    let last = -1;
    for (const pair of b.split(",")) {
      const m = /^(0|[1-9][0-9]?):([1-9][0-9]{0,9})$/u.exec(pair);
      if (!m) return undefined;
      const index = Number(m[1]);
      const count = Number(m[2]);
      if (index <= last || index >= LATENCY_BUCKETS || count > MAX_LATENCY_COUNT) return undefined;
      last = index;
      buckets.set(index, count);
    }
    out.push({ of: of as LatencyOf, kind: kind as LatencyKind, sumUs: Number(us), buckets });
  }
  return out;
}
