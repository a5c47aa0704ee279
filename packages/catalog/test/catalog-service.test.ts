// The service's decisions, in-process: no server connection (the IQ router is driven directly).
import { test, describe, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import {
  parseElement,
  NS_DELEGATION_2,
  NS_FORWARD,
  NS_SEC_LABEL_CATALOG,
  NS_SEC_LABEL_CATALOG_0,
  type Element,
  type IqOutcome,
} from "@cordon/component";
import { readFileSync } from "node:fs";
import { loadPolicy } from "@cordon/policy";
import { MemoryStore } from "@cordon/store";
import { createCatalogService, type CatalogService } from "../src/catalog-service.js";
import { parseCatalogSpec } from "../src/catalog-spec.js";
import {
  clearance,
  demoRegistry,
  demoCatalogService,
  rawLabel,
  DEMO_CATALOG,
  DEMO_POLICY_FILE,
} from "./fixtures.js";

const D = "example.test";
let store: MemoryStore;
let service: CatalogService;

function make(remoteRequests = false) {
  return demoCatalogService(store, { remoteRequests, liveRoomTimeoutMs: 50 });
}

const selectors = (el: Element | undefined) => (el?.getChildren("item") ?? []).map((i) => i.attrs.selector);
const payloadOf = (o: IqOutcome) => (o.kind === "result" ? o.payload : undefined);
const conditionOf = (o: IqOutcome) => (o.kind === "error" ? o.spec.condition : undefined);

function direct(from: string, target: string | undefined, ns = NS_SEC_LABEL_CATALOG, extra = "") {
  return parseElement(
    `<iq type='get' id='c1' from='${from}' to='catalog.${D}'><catalog xmlns='${ns}'${target ? ` to='${target}'` : ""}${extra}/></iq>`,
  );
}

function delegated(from: string, target: string, server = D) {
  return parseElement(
    `<iq type='set' id='S1' from='${server}' to='catalog.${D}'><delegation xmlns='${NS_DELEGATION_2}'><forwarded xmlns='${NS_FORWARD}'><iq xmlns='jabber:client' type='get' id='X' from='${from}' to='${D}'><catalog xmlns='${NS_SEC_LABEL_CATALOG}' to='${target}'/></iq></forwarded></delegation></iq>`,
  );
}

describe("catalog service", () => {
  beforeEach(async () => {
    store = new MemoryStore();
    service = make();
    await store.setUserClearance(`alice@${D}`, clearance("SECRET", ["ALPHA"]));
    await store.setUserClearance(`bob@${D}`, clearance("CONFIDENTIAL"));
    await store.setUserClearance(`carol@${D}`, clearance("UNCLASSIFIED"));
    await store.putRoom({
      jid: `ops@rooms.${D}`,
      config: { catalogRestrict: true },
      clearance: clearance("SECRET"),
      defaultLabel: rawLabel("CONFIDENTIAL"),
      affiliations: {},
      persistent: true,
    });
  });
  afterEach(async () => {
    await service.stop();
    await store.close();
  });

  test("server target: the requester's labels within the service catalog", async () => {
    const alice = payloadOf(await service.component.iq.route(direct(`alice@${D}/r`, D)));
    assert.deepEqual(selectors(alice), ["UNCLASSIFIED", "SECRET", "CONFIDENTIAL", "SECRET|ALPHA"]);
    const carol = payloadOf(await service.component.iq.route(direct(`carol@${D}/r`, D)));
    assert.deepEqual(selectors(carol), ["UNCLASSIFIED"]);
  });

  test("user target: only labels both are cleared for", async () => {
    const el = payloadOf(await service.component.iq.route(direct(`alice@${D}/r`, `bob@${D}`)));
    assert.deepEqual(selectors(el), ["UNCLASSIFIED", "CONFIDENTIAL"]);
    const unknownUser = payloadOf(await service.component.iq.route(direct(`alice@${D}/r`, `nobody@${D}`)));
    assert.deepEqual(selectors(unknownUser), [], "a user with no clearance is cleared for nothing");
  });

  test("room target: room clearance, room default first; unknown rooms are asked of their MUC", async () => {
    const el = payloadOf(await service.component.iq.route(direct(`alice@${D}/r`, `ops@rooms.${D}`)));
    assert.deepEqual(selectors(el), ["CONFIDENTIAL", "SECRET", "UNCLASSIFIED"]);
    assert.equal(el?.getChildren("item")[0]?.attrs.default, "true");
    // Not in the store (a temporary room, or none): asked of the room itself (live-room.ts), which
    // cannot answer here (the component is offline) — fail closed, no catalog. The e2e tests
    // (muc-catalog.test.ts) show a real MUC's answer, and item-not-found for no such room.
    assert.equal(
      conditionOf(await service.component.iq.route(direct(`alice@${D}/r`, `nope@rooms.${D}`))),
      "internal-server-error",
    );
    // The MUC service clearance bounds its rooms, and its change is seen at once.
    await store.setServiceClearance(`rooms.${D}`, clearance("CONFIDENTIAL"));
    assert.deepEqual(
      selectors(payloadOf(await service.component.iq.route(direct(`alice@${D}/r`, `ops@rooms.${D}`)))),
      ["CONFIDENTIAL", "UNCLASSIFIED"],
    );
  });

  test("remote target: within the peer's outbound clearance; no peering is item-not-found", async () => {
    assert.equal(
      conditionOf(await service.component.iq.route(direct(`alice@${D}/r`, "dave@peer.test"))),
      "item-not-found",
    );
    await store.setPeerClearance("peer.test", "outbound", clearance("RESTRICTED"));
    assert.deepEqual(
      selectors(payloadOf(await service.component.iq.route(direct(`alice@${D}/r`, "dave@peer.test")))),
      ["UNCLASSIFIED"],
    );
  });

  test("a delegated request gets the same catalog as a direct one", async () => {
    const outcome = await service.component.iq.route(delegated(`alice@${D}/r`, `bob@${D}`));
    const inner = payloadOf(outcome)?.getChild("forwarded", NS_FORWARD)?.getChild("iq");
    assert.equal(inner?.attrs.type, "result");
    assert.deepEqual(selectors(inner?.getChild("catalog", NS_SEC_LABEL_CATALOG)), [
      "UNCLASSIFIED",
      "CONFIDENTIAL",
    ]);
  });

  test("a clearance change notification changes the next answer and its id", async () => {
    const first = payloadOf(await service.component.iq.route(direct(`bob@${D}/r`, D)));
    const again = payloadOf(await service.component.iq.route(direct(`bob@${D}/r`, D)));
    assert.equal(first?.attrs.id, again?.attrs.id);
    assert.ok(service.cache.hits >= 1);
    await store.setUserClearance(`bob@${D}`, clearance("UNCLASSIFIED"));
    const after = payloadOf(await service.component.iq.route(direct(`bob@${D}/r`, D)));
    assert.deepEqual(selectors(after), ["UNCLASSIFIED"]);
    assert.notEqual(after?.attrs.id, first?.attrs.id);
  });

  test("a room change and a personal catalog are seen at once", async () => {
    await store.putRoom({
      jid: `ops@rooms.${D}`,
      config: {},
      clearance: clearance("UNCLASSIFIED"),
      affiliations: {},
      persistent: true,
    });
    assert.deepEqual(
      selectors(payloadOf(await service.component.iq.route(direct(`alice@${D}/r`, `ops@rooms.${D}`)))),
      ["UNCLASSIFIED"],
    );
    await store.setCatalog(
      { kind: "personal", jid: `alice@${D}` },
      JSON.stringify({
        items: [
          { selector: "Mine|RESTRICTED", label: { policy: "Cordon Demo", classification: "RESTRICTED" } },
        ],
      }),
    );
    assert.deepEqual(selectors(payloadOf(await service.component.iq.route(direct(`alice@${D}/r`, D)))), [
      "UNCLASSIFIED",
      "SECRET",
      "CONFIDENTIAL",
      "SECRET|ALPHA",
      "Mine|RESTRICTED",
    ]);
  });

  test("fail closed: an unknown requester clearance gets an empty restrictive catalog", async () => {
    const failing = {
      getUserClearance: async () => ({ status: "unknown" as const, reason: "directory down" }),
      subscribe: () => () => undefined,
    };
    const registry = demoRegistry();
    const closed = createCatalogService({
      service: "xmpp://127.0.0.1:1",
      domain: `catalog.${D}`,
      secret: "s",
      served: [D],
      registry,
      store,
      users: failing,
      catalogs: new Map([[D, parseCatalogSpec(DEMO_CATALOG, registry)]]),
    });
    const el = payloadOf(await closed.component.iq.route(direct(`alice@${D}/r`, D)));
    assert.equal(el?.attrs.restrict, "true");
    assert.equal(el?.attrs.size, "0");
    assert.equal(closed.cache.size, 0);
    await closed.stop();
  });

  test("requests from other servers are refused unless configured; bad targets are refused", async () => {
    assert.equal(conditionOf(await service.component.iq.route(direct("dave@peer.test/r", D))), "forbidden");
    // A local user naming someone else in `from` is still judged as itself (issue 16 item 10).
    assert.equal(
      conditionOf(
        await service.component.iq.route(
          direct(`alice@${D}/r`, D, NS_SEC_LABEL_CATALOG, ` from='dave@peer.test'`),
        ),
      ),
      undefined,
    );
    assert.equal(
      conditionOf(await service.component.iq.route(direct(`alice@${D}/r`, "@bad"))),
      "jid-malformed",
    );
    const open = make(true);
    assert.equal(conditionOf(await open.component.iq.route(direct("dave@peer.test/r", D))), undefined);
    assert.deepEqual(
      selectors(payloadOf(await open.component.iq.route(direct("dave@peer.test/r", D)))),
      [],
      "no inbound clearance: nothing",
    );
    await store.setPeerClearance("peer.test", "inbound", clearance("CONFIDENTIAL"));
    assert.deepEqual(selectors(payloadOf(await open.component.iq.route(direct("dave@peer.test/r", D)))), [
      "UNCLASSIFIED",
      "CONFIDENTIAL",
    ]);
    await open.stop();
  });

  test("a local user is judged on its own clearance whatever <catalog from> says (issue 16 item 10)", async () => {
    // A store shared by both sites holds a peer clearance for our own domain: `from` must not
    // turn carol (UNCLASSIFIED) into a "remote" requester judged on it.
    const open = make(true);
    await store.setPeerClearance(D, "inbound", clearance("SECRET", ["ALPHA"]));
    for (const behalf of [`carol@${D}`, `alice@${D}`, "dave@peer.test", D]) {
      const asked = direct(`carol@${D}/r`, D, NS_SEC_LABEL_CATALOG, ` from='${behalf}'`);
      assert.deepEqual(selectors(payloadOf(await open.component.iq.route(asked))), ["UNCLASSIFIED"], behalf);
    }
    // Delegated by our own server for carol, with a `from`: still carol's clearance.
    const forwarded = parseElement(
      `<iq type='set' id='S2' from='${D}' to='catalog.${D}'><delegation xmlns='${NS_DELEGATION_2}'><forwarded xmlns='${NS_FORWARD}'><iq xmlns='jabber:client' type='get' id='X' from='carol@${D}/r' to='${D}'><catalog xmlns='${NS_SEC_LABEL_CATALOG}' to='${D}' from='alice@${D}'/></iq></forwarded></delegation></iq>`,
    );
    const inner = payloadOf(await open.component.iq.route(forwarded))
      ?.getChild("forwarded", NS_FORWARD)
      ?.getChild("iq");
    assert.deepEqual(selectors(inner?.getChild("catalog", NS_SEC_LABEL_CATALOG)), ["UNCLASSIFIED"]);
    // The served server itself asking for one of its users: that user's own clearance, not the peer's.
    assert.deepEqual(
      selectors(
        payloadOf(await open.component.iq.route(direct(D, D, NS_SEC_LABEL_CATALOG, ` from='carol@${D}'`))),
      ),
      ["UNCLASSIFIED"],
    );
    assert.equal(
      conditionOf(
        await open.component.iq.route(direct(D, D, NS_SEC_LABEL_CATALOG, ` from='dave@peer.test'`)),
      ),
      "forbidden",
    );
    // Without remoteRequests the answer is the same (no longer refused as "remote").
    assert.deepEqual(
      selectors(
        payloadOf(
          await service.component.iq.route(
            direct(`carol@${D}/r`, D, NS_SEC_LABEL_CATALOG, ` from='carol@${D}'`),
          ),
        ),
      ),
      ["UNCLASSIFIED"],
    );
    await open.stop();
  });

  test("the older catalog:0 form and a missing target (the home server)", async () => {
    const el = payloadOf(
      await service.component.iq.route(direct(`carol@${D}/r`, undefined, NS_SEC_LABEL_CATALOG_0)),
    );
    assert.equal(el?.attrs.xmlns, NS_SEC_LABEL_CATALOG_0);
    assert.equal(el?.attrs.to, D);
    assert.deepEqual(
      el?.getChildren("securitylabel").map((l) => l.attrs.selector),
      ["UNCLASSIFIED"],
    );
  });

  test("the component's own disco#info lists the label features", async () => {
    const el = payloadOf(
      await service.component.iq.route(
        parseElement(
          `<iq type='get' id='d' from='alice@${D}/r' to='catalog.${D}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
        ),
      ),
    );
    const features = el?.getChildren("feature").map((f) => f.attrs.var) ?? [];
    assert.ok(features.includes("urn:xmpp:sec-label:0") && features.includes(NS_SEC_LABEL_CATALOG));
  });
});

describe("catalog service: personal catalogs from the directory", () => {
  test("directory labels are offered when the requester is cleared; an unknown answer is not cached", async () => {
    const local = new MemoryStore();
    await local.setUserClearance(`alice@${D}`, clearance("SECRET"));
    let status: "known" | "unknown" = "known";
    const directory = {
      getPersonalCatalog: async () =>
        status === "known"
          ? { status, labels: [rawLabel("RESTRICTED"), rawLabel("TOP SECRET")], source: "directory" as const }
          : { status, reason: "down" },
    };
    const registry = demoRegistry();
    const svc = createCatalogService({
      service: "xmpp://127.0.0.1:1",
      domain: `catalog.${D}`,
      secret: "s",
      served: [D],
      registry,
      store: local,
      personalCatalogs: directory,
      catalogs: new Map([[D, parseCatalogSpec(DEMO_CATALOG, registry)]]),
    });
    const catalog = await svc.catalogFor({ requester: `alice@${D}`, home: D, target: D });
    assert.deepEqual(
      catalog.items.map((i) => i.selector),
      ["UNCLASSIFIED", "SECRET", "CONFIDENTIAL", "RESTRICTED"],
    );
    status = "unknown";
    svc.cache.clear();
    const partial = await svc.catalogFor({ requester: `alice@${D}`, home: D, target: D });
    assert.deepEqual(
      partial.items.map((i) => i.selector),
      ["UNCLASSIFIED", "SECRET", "CONFIDENTIAL"],
    );
    assert.equal(svc.cache.size, 0);
    await svc.stop();
    await local.close();
  });
});

describe("catalog requests waiting for a slow clearance answer", () => {
  test("are bounded per requester: past the limit, resource-constraint at once; others unaffected", async () => {
    const slowStore = new MemoryStore();
    await slowStore.setUserClearance(`alice@${D}`, clearance("SECRET", ["ALPHA"]));
    await slowStore.setUserClearance(`bob@${D}`, clearance("CONFIDENTIAL"));
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    // Alice's clearance answer hangs (a slow directory) until opened; bob's comes at once.
    const users = {
      async getUserClearance(jid: string, policy?: string) {
        if (jid === `alice@${D}`) await opened;
        return slowStore.getUserClearance(jid, policy);
      },
      subscribe: (l: Parameters<MemoryStore["subscribe"]>[0]) => slowStore.subscribe(l),
    };
    const slow = demoCatalogService(slowStore, { users, pending: { perSender: 2 } });
    try {
      const held = [0, 1].map(() => slow.component.iq.route(direct(`alice@${D}/r`, D)));
      assert.equal(slow.memory()[0]?.entries, 2);
      assert.equal(
        conditionOf(await slow.component.iq.route(direct(`alice@${D}/other`, D))),
        "resource-constraint",
      );
      assert.deepEqual(
        selectors(payloadOf(await slow.component.iq.route(direct(`bob@${D}/r`, D)))).length > 0,
        true,
      );
      open();
      for (const outcome of await Promise.all(held)) assert.equal(outcome.kind, "result");
      assert.equal(slow.memory()[0]?.entries, 0);
      // The cache of computed catalogs, in bytes (catalog-cache.ts): alice's and bob's catalogs.
      const cached = slow.memory()[1];
      assert.equal(cached?.buffer, "catalog-cache");
      assert.equal(cached?.entries, 2);
      assert.ok(cached.bytes > 0 && cached.bytes <= cached.maxBytes, JSON.stringify(cached));
    } finally {
      await slow.stop();
      await slowStore.close();
    }
  });
});

// A policy reload while a catalog is computed: the catalog was built with the old Policy objects
// and must not be kept. (Was: cached under the generation read after computing — the reload's — and
// served from the cache afterwards, its labels bound to a policy no longer loaded.)
describe("a policy reload while a catalog is being computed", () => {
  test("the catalog computed meanwhile is not cached under the new policies", async () => {
    const slowStore = new MemoryStore();
    await slowStore.setUserClearance(`alice@${D}`, clearance("SECRET", ["ALPHA"]));
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    let hold = true;
    let reads = 0;
    const users = {
      async getUserClearance(jid: string, policy?: string) {
        reads++;
        if (hold) await opened;
        return slowStore.getUserClearance(jid, policy);
      },
      subscribe: (l: Parameters<MemoryStore["subscribe"]>[0]) => slowStore.subscribe(l),
    };
    const registry = demoRegistry();
    const slow = demoCatalogService(slowStore, { registry, users });
    try {
      const first = slow.catalogFor({ requester: `alice@${D}`, home: D, target: D });
      await new Promise((r) => setImmediate(r));
      assert.ok(reads > 0, "the computation is waiting for alice's clearance");
      registry.replaceAll([loadPolicy(readFileSync(DEMO_POLICY_FILE, "utf8"))]);
      hold = false;
      open();
      await first;
      reads = 0;
      await slow.catalogFor({ requester: `alice@${D}`, home: D, target: D });
      assert.ok(reads > 0, "computed again under the new policies, not served from the cache");
    } finally {
      await slow.stop();
      await slowStore.close();
    }
  });
});
