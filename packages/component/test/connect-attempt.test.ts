import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { connectOnce } from "../src/connect-attempt.js";
import type { LinkState } from "../src/link-state.js";
import { DomainConflictError } from "../src/errors.js";

/** An entity whose connect/open do nothing until the test emits what the server would cause. */
function fakeEntity(connect: () => Promise<void> = () => Promise.resolve()) {
  let destroyed = 0;
  const entity = Object.assign(new EventEmitter(), {
    socket: { destroy: () => void (destroyed += 1) } as never,
    connect,
    open: () => Promise.resolve(),
  });
  // EventEmitter's listener type (any[]) is wider than the entity's (never[]): the fake is an entity.
  return { entity: entity as typeof entity & Parameters<typeof connectOnce>[0], destroyed: () => destroyed };
}

const options = (link: LinkState = { status: "connecting" }, timeoutMs = 1000) => ({
  service: "xmpp://127.0.0.1:1",
  domain: "c.test",
  timeoutMs,
  link,
});

test("resolves when the entity comes online, and leaves no listener behind", async () => {
  const { entity, destroyed } = fakeEntity();
  const attempt = connectOnce(entity, options());
  entity.emit("online");
  await attempt;
  assert.equal(destroyed(), 0);
  for (const event of ["online", "error", "disconnect"]) assert.equal(entity.listenerCount(event), 0, event);
});

test("a connection error, a close or a failed connect rejects and destroys the socket", async () => {
  for (const fail of ["error", "disconnect", "connect"] as const) {
    const { entity, destroyed } = fakeEntity(
      fail === "connect" ? () => Promise.reject(new Error("ECONNREFUSED")) : undefined,
    );
    const attempt = connectOnce(entity, options());
    if (fail === "error") entity.emit("error", new Error("ECONNRESET"));
    if (fail === "disconnect") entity.emit("disconnect");
    await assert.rejects(attempt, /ECONNRESET|closed during handshake|ECONNREFUSED/, fail);
    assert.equal(destroyed(), 1, fail);
    assert.equal(entity.listenerCount("error"), 0, fail);
  }
});

test("a fatal stream error seen on the link is what the attempt fails with", async () => {
  const link: LinkState = { status: "connecting" };
  const { entity } = fakeEntity();
  const attempt = connectOnce(entity, options(link));
  link.fatalError = new DomainConflictError("c.test");
  entity.emit("disconnect");
  await assert.rejects(attempt, DomainConflictError);
});

test("no handshake in time rejects", async () => {
  const { entity, destroyed } = fakeEntity();
  await assert.rejects(connectOnce(entity, options(undefined, 20)), /no handshake within 20 ms/);
  assert.equal(destroyed(), 1);
});
