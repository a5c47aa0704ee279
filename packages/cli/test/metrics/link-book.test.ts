import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { CordonComponent } from "@cordon/component";
import { xml } from "@cordon/component";
import { LinkBook } from "../../src/metrics/link-book.js";
import { createMetrics } from "../../src/metrics/registry.js";

/** The getters and events of a component the link book reads (a stub: pure bookkeeping under test). */
function stubComponent(domain: string) {
  const emitter = new EventEmitter();
  const state = { status: "connecting", queueDepth: 0, reconnects: 0 };
  const component = {
    domain,
    get status() {
      return state.status;
    },
    get queueDepth() {
      return state.queueDepth;
    },
    get reconnects() {
      return state.reconnects;
    },
    on(event: string, listener: (...args: unknown[]) => void) {
      emitter.on(event, listener);
      return component;
    },
  };
  return {
    component: component as unknown as CordonComponent,
    state,
    emit: (event: string, ...args: unknown[]) => emitter.emit(event, ...args),
  };
}

test("counts stanzas in by kind and out, and reports links, queue depth and reconnects per component", async () => {
  const metrics = createMetrics({ processMetrics: false });
  const book = new LinkBook(metrics);
  const a = stubComponent("a.relay.test");
  const b = stubComponent("b.relay.test");
  book.observe("relay", a.component);
  book.observe("relay", b.component);
  book.observe("relay", a.component); // twice: counted once
  a.emit("stanza", xml("message", {}));
  a.emit("stanza", xml("presence", {}));
  b.emit("stanza", xml("iq", {}));
  a.emit("sent", 5);
  a.emit("oversize", "in", "id");
  a.emit("oversize", "out", "stanza");
  b.emit("oversize", "out", "stanza");
  a.state.status = "online";
  a.state.queueDepth = 2;
  b.state.queueDepth = 1;
  b.state.reconnects = 3;
  let body = (await metrics.text()).body;
  assert.match(body, /^cordon_stanzas_in_total\{component="relay",kind="message"\} 1$/m);
  assert.match(body, /^cordon_stanzas_in_total\{component="relay",kind="iq"\} 1$/m);
  assert.match(body, /^cordon_stanzas_out_total\{component="relay"\} 5$/m);
  assert.match(body, /^cordon_stanzas_oversize_total\{component="relay",direction="in",part="id"\} 1$/m);
  assert.match(body, /^cordon_stanzas_oversize_total\{component="relay",direction="out",part="stanza"\} 2$/m);
  assert.match(body, /^cordon_queue_depth\{component="relay"\} 3$/m);
  assert.match(body, /^cordon_links_online\{component="relay"\} 1$/m);
  assert.match(body, /^cordon_links\{component="relay"\} 2$/m);
  assert.match(body, /^cordon_reconnects_total\{component="relay"\} 3$/m);
  b.state.reconnects = 4;
  body = (await metrics.text()).body;
  assert.match(body, /^cordon_reconnects_total\{component="relay"\} 4$/m, "only the increase is added");
  assert.doesNotMatch(body, /relay\.test/, "no domain appears as a label value");
  assert.deepEqual(book.names(), ["relay"]);
  assert.deepEqual(
    book.links("relay").map((l) => [l.domain, l.online]),
    [
      ["a.relay.test", true],
      ["b.relay.test", false],
    ],
  );
});
