import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  checkFileTransfer,
  NS_IBB,
  NS_JINGLE,
  NS_OOB_X,
  NS_SI,
  NS_BYTESTREAMS,
} from "../src/file-transfer.js";
import { el } from "./fixtures.js";
import { defaultRules } from "../src/peering.js";

const blockAll = defaultRules().fileTransfer;
const passAll = { ibb: "pass", jingle: "pass", si: "pass", oob: "pass" } as const;

describe("checkFileTransfer", () => {
  test("IBB, Jingle and SI negotiations are blocked by default", () => {
    assert.deepEqual(
      checkFileTransfer(
        el(`<iq type='set'><open xmlns='${NS_IBB}' sid='s' block-size='4096'/></iq>`),
        blockAll,
      ),
      { blocked: true, kind: "ibb" },
    );
    assert.deepEqual(
      checkFileTransfer(
        el(`<iq type='set'><jingle xmlns='${NS_JINGLE}' action='session-initiate'/></iq>`),
        blockAll,
      ),
      { blocked: true, kind: "jingle" },
    );
    assert.deepEqual(checkFileTransfer(el(`<iq type='set'><si xmlns='${NS_SI}'/></iq>`), blockAll), {
      blocked: true,
      kind: "si",
    });
    assert.deepEqual(
      checkFileTransfer(el("<message><propose xmlns='urn:xmpp:jingle-message:0'/></message>"), blockAll),
      { blocked: true, kind: "jingle" },
    );
  });

  test("results and errors are never blocked", () => {
    assert.deepEqual(checkFileTransfer(el(`<iq type='result'><si xmlns='${NS_SI}'/></iq>`), blockAll), {
      blocked: false,
      stripped: [],
    });
  });

  test("OOB URLs in messages can be stripped; an OOB IQ is then still refused", () => {
    const rules = { ...blockAll, oob: "strip" } as const;
    const m = el(`<message><body>see</body><x xmlns='${NS_OOB_X}'><url>http://x</url></x></message>`);
    assert.deepEqual(checkFileTransfer(m, rules), { blocked: false, stripped: ["oob"] });
    assert.equal(m.toString(), "<message><body>see</body></message>");
    assert.deepEqual(checkFileTransfer(el("<iq type='set'><query xmlns='jabber:iq:oob'/></iq>"), rules), {
      blocked: true,
      kind: "oob",
    });
  });

  test("SOCKS5 bytestreams follow SI and Jingle; everything passes when allowed", () => {
    assert.equal(
      checkFileTransfer(el(`<iq type='set'><query xmlns='${NS_BYTESTREAMS}'/></iq>`), {
        ...passAll,
        jingle: "block",
      }).blocked,
      true,
    );
    assert.equal(
      checkFileTransfer(el(`<iq type='set'><query xmlns='${NS_BYTESTREAMS}'/></iq>`), passAll).blocked,
      false,
    );
    assert.equal(
      checkFileTransfer(el(`<iq type='set'><open xmlns='${NS_IBB}'/></iq>`), passAll).blocked,
      false,
    );
  });
});
