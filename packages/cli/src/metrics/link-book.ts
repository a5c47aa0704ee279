// Every XEP-0114 link of this process, by component name: the readiness report of the admin API
// and the per-component link, queue and reconnect metrics both read it. Observation is from the
// outside, through the runtime's events (`stanza`, `sent`) and getters (status, queueDepth,
// reconnects), so the components need no metrics code of their own.
import type { CordonComponent } from "@cordon/component";
import type { CordonMetrics } from "./registry.js";

export interface LinkState {
  /** The component domain of the link (shown to the admin, never used as a metric label). */
  domain: string;
  status: string;
  online: boolean;
  queueDepth: number;
  reconnects: number;
}

interface Watched {
  component: CordonComponent;
  countedReconnects: number;
}

export class LinkBook {
  readonly #byName = new Map<string, Watched[]>();
  readonly #metrics: CordonMetrics | undefined;

  constructor(metrics?: CordonMetrics) {
    this.#metrics = metrics;
    metrics?.onCollect(() => this.#collect());
  }

  /** Starts counting a link's stanzas; call before the component connects so nothing is missed. */
  observe(name: string, component: CordonComponent): void {
    const list = this.#byName.get(name) ?? [];
    if (list.some((w) => w.component === component)) return;
    list.push({ component, countedReconnects: 0 });
    this.#byName.set(name, list);
    const m = this.#metrics;
    if (!m) return;
    const stanzasIn = {
      message: m.stanzasIn.labels(name, "message"),
      presence: m.stanzasIn.labels(name, "presence"),
      iq: m.stanzasIn.labels(name, "iq"),
    };
    const out = m.stanzasOut.labels(name);
    m.reconnects.labels(name).inc(0);
    component.on("stanza", (stanza) => {
      const kind = stanza.name as keyof typeof stanzasIn;
      stanzasIn[kind]?.inc();
    });
    component.on("sent", (count) => out.inc(count));
    // Issue 14: a stanza over a size bound (refused on input, or never written).
    m.oversize.labels(name, "out", "stanza").inc(0);
    component.on("oversize", (direction, part) => m.oversize.labels(name, direction, part).inc());
  }

  /** Stops listing a link that was closed for good (a clustered MUC replaces its links). */
  forget(name: string, component: CordonComponent): void {
    const list = this.#byName.get(name);
    const i = list?.findIndex((w) => w.component === component) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }

  links(name: string): LinkState[] {
    return (this.#byName.get(name) ?? []).map(({ component }) => ({
      domain: component.domain,
      status: component.status,
      online: component.status === "online",
      queueDepth: component.queueDepth,
      reconnects: component.reconnects,
    }));
  }

  #collect(): void {
    const m = this.#metrics;
    if (!m) return;
    for (const [name, list] of this.#byName) {
      let depth = 0;
      let online = 0;
      for (const w of list) {
        depth += w.component.queueDepth;
        if (w.component.status === "online") online++;
        const delta = w.component.reconnects - w.countedReconnects;
        if (delta > 0) {
          m.reconnects.labels(name).inc(delta);
          w.countedReconnects += delta;
        }
      }
      m.queueDepth.labels(name).set(depth);
      m.linksOnline.labels(name).set(online);
      m.links.labels(name).set(list.length);
    }
  }
}
