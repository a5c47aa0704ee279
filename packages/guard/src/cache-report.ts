// Verdicts served from a module's cache, counted where every other decision is
// (`cordon_decisions_total{component="guard",outcome="grant",reason="deliver:cached"}`). A message
// a module delivers from its verdict cache (verdict-cache.ts) never reaches the guard, so without
// this the metrics would count only the questions. Each module reports how many it served since
// its last report, at most every few seconds and only when it served any:
//
//   <iq type='set' from='example.test' to='guard.example.test' id='…'>
//     <served xmlns='urn:cordon:guard:0' n='1234'/>
//   </iq>                                                   answered with an empty result
//
// Only a served server's own domain may report (as for <check/>); `n` is a decimal count of at
// most MAX_SERVED_REPORT (a larger, signed, fractional or padded number is refused bad-request).
import { isElement, type Element } from "@cordon/component";

/** The most one report may count: 5 s of hits at 200,000 messages/s is 1,000,000. */
export const MAX_SERVED_REPORT = 1_000_000_000;

/** The count a `<served/>` reports, or undefined when it is malformed. */
export function readServedReport(served: Element): number | undefined {
  if (served.children.some(isElement)) return undefined;
  const n = served.attrs.n;
  if (n === undefined || !/^[1-9][0-9]{0,9}$/u.test(n)) return undefined;
  const count = Number(n);
  return count <= MAX_SERVED_REPORT ? count : undefined;
}
