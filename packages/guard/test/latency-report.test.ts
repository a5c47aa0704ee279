import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement } from "@cordon/component";
import {
  LATENCY_BOUNDS_US,
  LATENCY_BUCKETS,
  MAX_LATENCY_COUNT,
  readLatencyReport,
} from "../src/latency-report.js";
import {
  LatencyHistograms,
  latencyQuantile,
  latencyShareAtMost,
  latencySince,
} from "../src/latency-histograms.js";

const report = (inner: string) => parseElement(`<latency xmlns='urn:cordon:guard:0'>${inner}</latency>`);
const h = (attrs: string) => `<h ${attrs}/>`;

test("the buckets: 10 µs to 10 s, five a decade, 1 ms among the bounds", () => {
  assert.equal(LATENCY_BOUNDS_US[0], 10);
  assert.equal(LATENCY_BOUNDS_US.at(-1), 10_000_000);
  assert.equal(LATENCY_BUCKETS, 32);
  assert.ok(LATENCY_BOUNDS_US.includes(1000));
  assert.deepEqual(LATENCY_BOUNDS_US.slice(0, 6), [10, 16, 25, 40, 63, 100]);
  for (let i = 1; i < LATENCY_BOUNDS_US.length; i++)
    assert.ok((LATENCY_BOUNDS_US[i] as number) > (LATENCY_BOUNDS_US[i - 1] as number));
});

test("a report of the three histograms is read whole", () => {
  const deltas = readLatencyReport(
    report(
      h("of='hold' kind='cached' us='1234' b='2:10,3:200'") +
        h("of='hold' kind='asked' us='0' b='0:1'") +
        h(`of='round-trip' kind='asked' us='99' b='31:${MAX_LATENCY_COUNT}'`),
    ),
  );
  assert.ok(deltas);
  assert.equal(deltas.length, 3);
  assert.deepEqual(deltas[0], {
    of: "hold",
    kind: "cached",
    sumUs: 1234,
    buckets: new Map([
      [2, 10],
      [3, 200],
    ]),
  });
  assert.equal(deltas[2]?.buckets.get(31), MAX_LATENCY_COUNT);
});

test("a malformed or oversized report is not a report (bad-request): nothing of it is taken", () => {
  const ok = "of='hold' kind='asked' us='5' b='1:1'";
  for (const inner of [
    "", // nothing reported
    h("of='hold' kind='other' us='5' b='1:1'"), // unknown kind
    h("of='round-trip' kind='cached' us='5' b='1:1'"), // a cached message asks nothing
    h("of='queue' kind='asked' us='5' b='1:1'"),
    h(ok) + h(ok), // twice
    h(ok) + h(ok) + h(ok) + h(ok), // more than three
    h("of='hold' kind='asked' us='5'"), // no buckets
    h("of='hold' kind='asked' us='5' b=''"),
    h("of='hold' kind='asked' b='1:1'"), // no sum
    h("of='hold' kind='asked' us='-5' b='1:1'"),
    h("of='hold' kind='asked' us='05' b='1:1'"),
    h("of='hold' kind='asked' us='1.5' b='1:1'"),
    h("of='hold' kind='asked' us='99999999999999999' b='1:1'"), // over MAX_LATENCY_SUM_US
    h("of='hold' kind='asked' us='5' b='32:1'"), // index out of range
    h("of='hold' kind='asked' us='5' b='-1:1'"),
    h("of='hold' kind='asked' us='5' b='01:1'"),
    h("of='hold' kind='asked' us='5' b='3:1,2:1'"), // out of order
    h("of='hold' kind='asked' us='5' b='2:1,2:1'"), // twice
    h("of='hold' kind='asked' us='5' b='2:0'"), // a count of 0
    h("of='hold' kind='asked' us='5' b='2:01'"),
    h(`of='hold' kind='asked' us='5' b='2:${MAX_LATENCY_COUNT + 1}'`),
    h("of='hold' kind='asked' us='5' b='2:99999999999'"),
    h("of='hold' kind='asked' us='5' b='2:1,'"),
    h("of='hold' kind='asked' us='5' b='2:1, 3:1'"),
    h(`of='hold' kind='asked' us='5' b='${"1:1,".repeat(1000)}1:1'`), // oversized
    "<h of='hold' kind='asked' us='5' b='1:1'><x/></h>", // a child
    "<x of='hold' kind='asked' us='5' b='1:1'/>",
    h(ok) + "<x/>",
  ])
    assert.equal(readLatencyReport(report(inner)), undefined, inner.slice(0, 120));
});

test("random reports never throw: read whole or refused", () => {
  const parts = [
    "of='hold'",
    "of='round-trip'",
    "kind='asked'",
    "kind='cached'",
    "us='7'",
    "us='x'",
    "b='1:2'",
    "b='9:1,31:3'",
    "b='40:1'",
  ];
  for (let i = 0; i < 2000; i++) {
    const n = 1 + (i % 5);
    let inner = "";
    for (let j = 0; j < n; j++) inner += `<h ${parts.filter(() => Math.random() < 0.5).join(" ")}/>`;
    const read = readLatencyReport(report(inner));
    if (read) for (const d of read) for (const [index] of d.buckets) assert.ok(index < LATENCY_BUCKETS);
  }
});

test("totals add up the reports; quantiles are the bucket's upper bound; the share at most 1 ms is exact", () => {
  const histograms = new LatencyHistograms();
  const before = histograms.totals("hold/asked");
  const at = (us: number) => LATENCY_BOUNDS_US.indexOf(us);
  const deltas = readLatencyReport(
    report(h(`of='hold' kind='asked' us='100000' b='${at(100)}:98,${at(1000)}:1,${at(2500)}:1'`)),
  );
  assert.ok(deltas);
  histograms.add(deltas);
  histograms.add(deltas);
  const totals = latencySince(histograms.totals("hold/asked"), before);
  assert.equal(totals.count, 200);
  assert.equal(totals.sumSeconds, 0.2);
  assert.equal(latencyQuantile(totals, 0.5), 100e-6);
  assert.equal(latencyQuantile(totals, 0.99), 1e-3);
  assert.equal(latencyQuantile(totals, 1), 2.5e-3);
  assert.equal(latencyShareAtMost(totals, 1000), 0.99);
  assert.equal(histograms.totals("hold/cached").count, 0);
  assert.equal(latencyQuantile(histograms.totals("hold/cached"), 0.5), undefined);
});
