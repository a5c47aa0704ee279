import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  checkFileTransfer,
  NS_IBB,
  NS_JINGLE,
  NS_OOB_IQ,
  NS_OOB_X,
  NS_SI,
  NS_BYTESTREAMS,
  withoutVcardBinaries,
} from "../src/file-transfer.js";
import { isElement, type Element } from "@cordon/component";
import { el } from "./fixtures.js";
import { stanzaOnly } from "../src/decide.js";
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

  // Changed: results were never checked, so a result answering a crossed request could carry a file.
  test("errors are never checked here; results are", () => {
    assert.deepEqual(checkFileTransfer(el(`<iq type='error'><si xmlns='${NS_SI}'/></iq>`), blockAll), {
      blocked: false,
      stripped: [],
    });
    assert.deepEqual(
      checkFileTransfer(
        el(
          "<iq type='result'><query xmlns='http://jabber.org/protocol/disco#info'><data xmlns='urn:xmpp:bob' cid='c'>AAAA</data></query></iq>",
        ),
        blockAll,
      ),
      { blocked: true, kind: "bob" },
    );
  });

  // Fixed: strip removed jabber:x:oob only, and the audit said "oob" stripped while a
  // <query xmlns='jabber:iq:oob'/> crossed.
  test("strip removes every OOB form from a message, and the audit lists what it removed", () => {
    const rules = { ...blockAll, oob: "strip" } as const;
    const m = el(
      `<message><body>see</body><query xmlns='${NS_OOB_IQ}'><url>http://x</url></query><file-sharing xmlns='urn:xmpp:sfs:0'><sources><url-data xmlns='http://jabber.org/protocol/url-data' target='https://x/f'/></sources></file-sharing><reference xmlns='urn:xmpp:reference:0' type='data'><media-sharing xmlns='urn:xmpp:sims:1'/></reference></message>`,
    );
    assert.deepEqual(checkFileTransfer(m, rules), { blocked: false, stripped: ["oob", "sfs", "sims"] });
    assert.equal(m.toString(), "<message><body>see</body></message>");
  });

  // Fixed: these crossed whatever the rules said.
  test("every file-transfer form is recognised, at any depth", () => {
    const cases: [string, string][] = [
      ["sfs", "<message><file-sharing xmlns='urn:xmpp:sfs:0'/></message>"],
      ["sfs", "<message><encrypted xmlns='urn:xmpp:esfs:0'/></message>"],
      [
        "sims",
        "<message><reference xmlns='urn:xmpp:reference:0'><media-sharing xmlns='urn:xmpp:sims:1'/></reference></message>",
      ],
      ["bob", "<message><data xmlns='urn:xmpp:bob' cid='sha1+x@bob.xmpp.org'>AAAA</data></message>"],
      ["upload", "<iq type='get'><request xmlns='urn:xmpp:http:upload:0' filename='f' size='1'/></iq>"],
      ["aesgcm", "<message><body>aesgcm://upload.example/f#key</body></message>"],
      [
        "data-uri",
        "<message><html xmlns='http://jabber.org/protocol/xhtml-im'><body xmlns='http://www.w3.org/1999/xhtml'><img src='data:image/png;base64,AAAA'/></body></html></message>",
      ],
    ];
    for (const [kind, xmlText] of cases)
      assert.deepEqual(checkFileTransfer(el(xmlText), blockAll), { blocked: true, kind }, xmlText);
    // aesgcm:// in a body cannot be stripped without changing the text: refused under strip too.
    assert.deepEqual(
      checkFileTransfer(el("<message><body>aesgcm://h/f</body></message>"), { ...blockAll, oob: "strip" }),
      { blocked: true, kind: "aesgcm" },
    );
    for (const [, xmlText] of cases)
      assert.equal(checkFileTransfer(el(xmlText), passAll).blocked, false, xmlText);
  });

  test("a vCard's PHOTO is stripped (the vCard crosses) unless in-band data passes", () => {
    const vcard = () =>
      el(
        "<iq type='result'><vCard xmlns='vcard-temp'><FN>Bob</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>AAAA</BINVAL></PHOTO></vCard></iq>",
      );
    const v = vcard();
    assert.deepEqual(checkFileTransfer(v, blockAll), { blocked: false, stripped: ["vcard-photo"] });
    assert.equal(v.toString(), '<iq type="result"><vCard xmlns="vcard-temp"><FN>Bob</FN></vCard></iq>');
    const kept = vcard();
    assert.deepEqual(checkFileTransfer(kept, passAll), { blocked: false, stripped: [] });
    assert.ok(kept.toString().includes("BINVAL"));
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

describe("file transfer: vCard binaries stripped as the former filter did", () => {
  const VCARD_BINARIES: Readonly<Record<string, string>> = {
    PHOTO: "vcard-photo",
    LOGO: "vcard-binary",
    SOUND: "vcard-binary",
  };
  /** The former walk: a new child list for every element. */
  function former(e: Element, removed: Set<string>, inVcard = false): void {
    const vcard = inVcard || e.attrs.xmlns === "vcard-temp";
    e.children = e.children.filter((c) => {
      if (!isElement(c)) return true;
      const ns = c.attrs.xmlns;
      const kind = VCARD_BINARIES[c.name];
      if (vcard && kind && (ns === undefined || ns === "vcard-temp")) {
        removed.add(kind);
        return false;
      }
      former(c, removed, vcard && (ns === undefined || ns === "vcard-temp"));
      return true;
    });
  }
  const STANZAS = [
    `<iq type='result' from='a@x.test' to='b@y.test' id='v'><vCard xmlns='vcard-temp'><FN>A</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>AAAA</BINVAL></PHOTO><LOGO><EXTVAL>data:x</EXTVAL></LOGO>t<NICKNAME>n</NICKNAME><SOUND/></vCard></iq>`,
    `<message from='a@x.test' to='b@y.test'><body>PHOTO</body><x xmlns='urn:other'><PHOTO/></x><vCard xmlns='vcard-temp'><x xmlns='urn:other'><PHOTO/></x><ORG><PHOTO/></ORG></vCard></message>`,
    `<presence from='a@x.test' to='b@y.test'><x xmlns='vcard-temp:x:update'><photo>abc</photo></x></presence>`,
    `<iq type='set' from='a@x.test' to='b@y.test' id='w'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='n'><item><vCard xmlns='vcard-temp'><PHOTO xmlns='vcard-temp'/><PHOTO xmlns='urn:no'/>x<LOGO/></vCard></item></publish></pubsub></iq>`,
  ];
  test("the same children and kinds; lists with nothing removed are left as they were", () => {
    for (const text of STANZAS) {
      const a = el(text);
      const b = el(text);
      const lists = new Set<unknown>();
      const collect = (e: Element): void => {
        lists.add(e.children);
        e.children.forEach((c) => isElement(c) && collect(c));
      };
      collect(a);
      const gotA = new Set<string>();
      const gotB = new Set<string>();
      const before = a.toString();
      const walked = withoutVcardBinaries(a, gotA as Set<never>);
      former(b, gotB);
      assert.equal(walked.toString(), b.toString(), text);
      assert.equal(a.toString(), before, "the element walked is not changed");
      assert.deepEqual([...gotA], [...gotB]);
      if (gotA.size === 0) {
        assert.equal(walked, a);
        const same = (e: Element): void => {
          assert.ok(lists.has(e.children), "no new list where nothing was removed");
          e.children.forEach((c) => isElement(c) && same(c));
        };
        same(a);
      }
    }
  });
});

// Found in review (adv42): the vCard walk removed PHOTO, LOGO and SOUND from the nested elements
// themselves, which the relay's copy shares with the stanza the connection handed over (copy.ts):
// the original lost them too. Now each element on the path to one removed is copied (copy on write).
describe("file transfer: the stanza handed over is never changed", () => {
  const NESTED = [
    `<iq type='result' from='a@x.test' to='b@y.test' id='v'><vCard xmlns='vcard-temp'><FN>A</FN><PHOTO><BINVAL>AAAA</BINVAL></PHOTO><ORG><LOGO/></ORG>t<SOUND/></vCard></iq>`,
    `<iq type='set' from='a@x.test' to='b@y.test' id='w'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='n'><item><vCard xmlns='vcard-temp'><PHOTO/><X><vCard xmlns='vcard-temp'><LOGO/></vCard></X></vCard></item></publish></pubsub></iq>`,
    `<message from='a@x.test' to='b@y.test'><body>b</body><vCard xmlns='vcard-temp'><PHOTO/><NICKNAME>n</NICKNAME></vCard></message>`,
  ];
  test("the copy loses the vCard's files, the original keeps them; untouched branches stay shared", () => {
    for (const text of NESTED) {
      const original = el(text);
      const before = original.toString();
      const copy = stanzaOnly(original);
      const result = checkFileTransfer(copy, blockAll);
      assert.equal(result.blocked, false);
      assert.ok(result.stripped.length > 0, text);
      assert.equal(original.toString(), before, "the original is unchanged");
      // The copy is what the walk makes of a separate parse.
      const former = stanzaOnly(el(text));
      checkFileTransfer(former, blockAll);
      assert.equal(copy.toString(), former.toString());
      assert.ok(!/PHOTO|LOGO|SOUND/.test(copy.toString()), copy.toString());
    }
    // A branch with nothing removed is the original's own element (no copy made).
    const original = el(NESTED[2]!);
    const copy = stanzaOnly(original);
    checkFileTransfer(copy, blockAll);
    assert.equal(copy.getChild("body"), original.getChild("body"));
    assert.notEqual(copy.getChild("vCard"), original.getChild("vCard"));
  });
});

// Review (adv42, held): attributes are read with for…in. Names that are Object.prototype's own
// (constructor, hasOwnProperty, toString) are ordinary attributes there; __proto__ never reaches
// an element (the parser's assignment to a plain object drops it), so nothing hides in it.
describe("file transfer: attributes named like Object.prototype's members", () => {
  for (const name of ["constructor", "hasOwnProperty", "toString", "valueOf"]) {
    test(`a data: URI in a '${name}' attribute is found; an aesgcm:// link too`, () => {
      const data = el(`<message><x xmlns='urn:x'><y ${name}='data:image/png;base64,AA'/></x></message>`);
      assert.deepEqual(checkFileTransfer(data, blockAll), { blocked: true, kind: "data-uri" });
      const link = el(`<message><x xmlns='urn:x' ${name}='aesgcm://h/f'/></message>`);
      assert.equal(checkFileTransfer(link, blockAll).blocked, true);
    });
  }
  test("__proto__ is dropped by the parser: it neither hides text nor crosses", () => {
    const m = el(`<message><x xmlns='urn:x' __proto__='data:,x'/></message>`);
    const x = m.getChild("x")!;
    assert.equal(Object.keys(x.attrs).includes("__proto__"), false);
    assert.equal(Object.getPrototypeOf(x.attrs), Object.prototype);
    assert.ok(!m.toString().includes("data:"));
  });
});
