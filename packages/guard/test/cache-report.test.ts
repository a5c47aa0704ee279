import { test } from "node:test";
import assert from "node:assert/strict";
import { parseElement } from "@cordon/component";
import { MAX_SERVED_REPORT, readServedReport } from "../src/cache-report.js";

const served = (attrs: string, inner = "") =>
  parseElement(`<served xmlns='urn:cordon:guard:0'${attrs}>${inner}</served>`);

test("a report counts a positive decimal number of messages, at most MAX_SERVED_REPORT", () => {
  assert.equal(readServedReport(served(" n='1'")), 1);
  assert.equal(readServedReport(served(" n='1234'")), 1234);
  assert.equal(readServedReport(served(` n='${MAX_SERVED_REPORT}'`)), MAX_SERVED_REPORT);
});

test("anything else is not a report (bad-request): no count, a signed, padded, fractional or huge one, a child", () => {
  for (const attrs of [
    "",
    " n=''",
    " n='0'",
    " n='-5'",
    " n='+5'",
    " n='05'",
    " n='1.5'",
    " n='1e3'",
    " n=' 5'",
  ])
    assert.equal(readServedReport(served(attrs)), undefined, attrs);
  assert.equal(readServedReport(served(` n='${MAX_SERVED_REPORT + 1}'`)), undefined);
  assert.equal(readServedReport(served(" n='99999999999'")), undefined);
  assert.equal(readServedReport(served(" n='3'", "<x/>")), undefined);
});
