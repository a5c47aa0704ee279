import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultRole, mayChangeAffiliation, mayChangeRole, type Occupant } from "../src/room/occupant.js";
import { NO_CLEARANCE } from "@cordon/rules";

const occupant = (affiliation: Occupant["affiliation"], role: Occupant["role"]): Occupant => ({
  nick: affiliation,
  jid: `${affiliation}@x/r`,
  bare: `${affiliation}@x`,
  role,
  affiliation,
  occupantId: "o",
  clearance: NO_CLEARANCE,
  labelAware: false,
  presenceXml: "",
  joinedAt: 0,
});

test("default roles follow XEP-0045 §5.1.1", () => {
  assert.equal(defaultRole("owner", false), "moderator");
  assert.equal(defaultRole("admin", true), "moderator");
  assert.equal(defaultRole("member", true), "participant");
  assert.equal(defaultRole("none", true), "visitor");
  assert.equal(defaultRole("none", false), "participant");
  assert.equal(defaultRole("outcast", false), "none");
});

test("admins cannot touch owners or other admins; owners can", () => {
  assert.equal(mayChangeAffiliation("admin", "member", "outcast"), true);
  assert.equal(mayChangeAffiliation("admin", "owner", "none"), false);
  assert.equal(mayChangeAffiliation("admin", "admin", "member"), false);
  assert.equal(mayChangeAffiliation("admin", "none", "admin"), false);
  assert.equal(mayChangeAffiliation("owner", "admin", "none"), true);
  assert.equal(mayChangeAffiliation("member", "none", "member"), false);
});

test("moderators may kick participants but never admins or owners", () => {
  const mod = occupant("member", "moderator");
  assert.equal(mayChangeRole(mod, occupant("none", "participant"), "none"), true);
  assert.equal(mayChangeRole(mod, occupant("admin", "moderator"), "none"), false);
  assert.equal(
    mayChangeRole(mod, occupant("none", "participant"), "moderator"),
    false,
    "only admins grant moderator",
  );
  assert.equal(
    mayChangeRole(occupant("admin", "moderator"), occupant("none", "participant"), "moderator"),
    true,
  );
  assert.equal(
    mayChangeRole(occupant("none", "participant"), occupant("none", "visitor"), "participant"),
    false,
  );
});
