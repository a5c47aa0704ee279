import { test } from "node:test";
import assert from "node:assert/strict";
import { makeClearance, PolicyRegistry } from "@cordon/policy";
import { ClientLocations, parseCidr } from "../src/client-location.js";

const registry = new PolicyRegistry();
const policy = registry.loadFileSync(
  new URL("../../../../deploy/quickstart/demo-policy.xml", import.meta.url).pathname,
);
const clearance = (...names: string[]) =>
  makeClearance(
    policy,
    names.map((n) => policy.classificationByName.get(n)!),
    [],
  );

test("CIDR blocks: IPv4 and IPv6, bare addresses, and what is not one", () => {
  assert.deepEqual(parseCidr("10.0.0.0/8"), { address: "10.0.0.0", family: "ipv4", bits: 8 });
  assert.deepEqual(parseCidr("fd00::/8"), { address: "fd00::", family: "ipv6", bits: 8 });
  assert.deepEqual(parseCidr("192.0.2.1"), { address: "192.0.2.1", family: "ipv4", bits: 32 });
  for (const bad of [
    "10.0.0.0/33",
    "fd00::/129",
    "10.0.0/8",
    "host/8",
    "10.0.0.0/8/1",
    "10.0.0.0/-1",
    "10.0.0.0/ 8",
  ])
    assert.equal(parseCidr(bad), undefined, bad);
  assert.throws(
    () => new ClientLocations({ locations: [{ ranges: ["nope"], clearance: clearance("UNCLASSIFIED") }] }),
  );
});

test("the most specific range decides, across IPv4, IPv4-mapped IPv6 and IPv6; no address or no range: none", () => {
  const wide = clearance("UNCLASSIFIED", "SECRET");
  const narrow = clearance("UNCLASSIFIED");
  const six = clearance("UNCLASSIFIED", "CONFIDENTIAL");
  const at = new ClientLocations({
    locations: [
      { ranges: ["10.0.0.0/8"], clearance: wide },
      { ranges: ["10.9.0.0/16"], clearance: narrow },
      { ranges: ["2001:db8::/32"], clearance: six },
    ],
  });
  assert.equal(at.active, true);
  assert.equal(at.clearanceOf("10.1.1.1"), wide);
  assert.equal(at.clearanceOf("10.9.1.1"), narrow);
  assert.equal(at.clearanceOf("::ffff:10.9.1.1"), narrow);
  assert.equal(at.clearanceOf("2001:db8::5"), six);
  assert.equal(at.clearanceOf("192.0.2.1"), undefined);
  assert.equal(at.clearanceOf(undefined), undefined);
  assert.equal(at.clearanceOf("not-an-ip"), undefined);
  const other = new ClientLocations({
    locations: [{ ranges: ["10.0.0.0/8"], clearance: wide }],
    otherLocations: narrow,
  });
  assert.equal(other.clearanceOf("192.0.2.1"), narrow);
  assert.equal(other.clearanceOf(undefined), undefined, "no address is never 'elsewhere'");
  assert.equal(new ClientLocations({ locations: [] }).active, false);
});
