// The label catalog beside the guard with the guard's two client locations (issue 17): a server of
// `domain` loading the guard module, Cordon's guard with twoSites as its locations, the catalog
// `catalog.${domain}` delegated (XEP-0355), trusted by the module and told the same locations;
// clients connect from CLEARED_SITE (127.0.0.1) or UNCLASSIFIED_SITE (127.0.0.2). Used by
// catalog-location, catalog-recipient and catalog-recipient-attack.
import { sendRaw, xml, type ServerKind, type TestClient, type XmppServer } from "@cordon/harness";
import type { CatalogService } from "@cordon/catalog";
import { createComponent, NS_SEC_LABEL_CATALOG, type CordonComponent, type Element } from "@cordon/component";
import type { GuardService } from "@cordon/guard";
import { MemoryStore } from "@cordon/store";
import type { Demo } from "./demo.js";
import * as guarded from "./guard-fixture.js";

/** The selectors of a catalog's items, in order. */
export const selectors = (catalog: Element | undefined): string[] =>
  (catalog?.getChildren("item") ?? []).map((i) => String(i.attrs.selector));

export interface CatalogSitesOptions {
  demo: Demo;
  domain: string;
  password: string;
  users: readonly string[];
  /** The user whose session at the cleared site waits for the catalog's delegated answer. */
  probe: string;
  /** More components the module trusts (declared on the server with their secret). */
  trusted?: readonly { domain: string; secret: string }[];
  /** When given: a component the module does not trust, `other.${domain}` (secret "other"), started. */
  untrusted?: boolean;
}

export class CatalogSites {
  readonly catalogDomain: string;
  readonly untrustedDomain: string;
  readonly store = new MemoryStore();
  readonly open: TestClient[] = [];
  readonly locations: ReturnType<typeof guarded.twoSites>;
  server!: XmppServer;
  guard!: GuardService;
  catalog!: CatalogService;
  untrusted: CordonComponent | undefined;

  constructor(
    readonly kind: ServerKind,
    readonly o: CatalogSitesOptions,
  ) {
    this.catalogDomain = `catalog.${o.domain}`;
    this.untrustedDomain = `other.${o.domain}`;
    this.locations = guarded.twoSites(o.demo);
  }

  jid(u: string): string {
    return `${u}@${this.o.domain}`;
  }

  /** The server, the guard, the catalog (and the untrusted component when asked for), started. */
  async start(): Promise<void> {
    const { demo, domain, password } = this.o;
    const trusted = this.o.trusted ?? [];
    this.server = await guarded.startGuardedServer(
      this.kind,
      {
        demo,
        domain,
        store: this.store,
        users: this.o.users,
        password,
        guard: { timeoutSeconds: 2, trusted: [this.catalogDomain, ...trusted.map((c) => c.domain)] },
      },
      {
        components: [
          { domain: this.catalogDomain, secret: "catalog" },
          ...(this.o.untrusted ? [{ domain: this.untrustedDomain, secret: "other" }] : []),
          ...trusted,
        ],
        delegations: [{ namespace: NS_SEC_LABEL_CATALOG, component: this.catalogDomain }],
      },
    );
    const { store, locations } = this;
    this.guard = await guarded.startGuard(demo, this.server, domain, { store, locations });
    const probe = await guarded.openSession(
      this.server,
      this.open,
      password,
      this.o.probe,
      "probe",
      guarded.CLEARED_SITE,
    );
    this.catalog = await guarded.startGuardedCatalog(demo, this.server, domain, store, probe, {
      guardLocations: { locations },
    });
    if (!this.o.untrusted) return;
    this.untrusted = createComponent({
      service: `xmpp://127.0.0.1:${this.server.componentPort}`,
      domain: this.untrustedDomain,
      secret: "other",
      reconnect: { initialMs: 100, maxMs: 1000 },
    });
    await this.untrusted.start();
  }

  /** The tests' after(): whatever started, stopped. */
  async stop(): Promise<void> {
    await this.untrusted?.stop();
    await this.catalog?.stop();
    await guarded.stopGuarded(this.server, this.guard, this.open);
  }

  /** The catalog `client` gets from its own server (delegated) or from the component `to`, toward `target`. */
  async catalogOf(client: TestClient, target: string, to = this.o.domain): Promise<Element | undefined> {
    return (
      await client.iq(
        xml("iq", { type: "get", to }, xml("catalog", { xmlns: NS_SEC_LABEL_CATALOG, to: target })),
        8000,
      )
    ).getChild("catalog", NS_SEC_LABEL_CATALOG);
  }

  /** Sends `label` from `from` to `to`: "delivered" (at `at`) or the error's condition. */
  async outcome(from: TestClient, to: string, at: TestClient, id: string, label: string): Promise<string> {
    const { demo } = this.o;
    await sendRaw(
      from,
      `<message to='${to}' id='${id}' type='chat'><body>x</body>${demo.labelXml(demo.label(label))}</message>`,
    );
    return Promise.race([
      at.waitFor((m) => m.attrs.id === id, 8000).then(() => "delivered"),
      from
        .waitFor((m) => m.attrs.id === id && m.attrs.type === "error", 8000)
        .then((e) => e.getChild("error")?.getChildElements()[0]?.name ?? "error"),
    ]);
  }
}
