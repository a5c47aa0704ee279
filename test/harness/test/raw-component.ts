// A bare XEP-0114 component over a raw socket, for harness tests only (the real runtime lives in
// @cordon/component). XEP-0114 §3: stream header, then <handshake>sha1(streamId + secret)</handshake>.
import { connect } from "node:net";
import type { Socket } from "node:net";
import { createHash } from "node:crypto";
import { createParser } from "../src/xml.js";
import type { Element } from "../src/xml.js";

export interface RawComponent {
  stanzas: Element[];
  /** Calls listener for every stanza, including those received before this call. */
  onStanza(listener: (el: Element) => void): void;
  send(el: Element): void;
  close(): void;
}

export function openStream(
  port: number,
  to: string,
): Promise<{ socket: Socket; header: Element; parser: ReturnType<typeof createParser> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const parser = createParser();
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => parser.write(d));
    socket.once("error", reject);
    parser.on("start", (header) => resolve({ socket, header, parser }));
    parser.on("error", reject);
    socket.once("connect", () => {
      socket.write(
        `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='${to}'>`,
      );
    });
  });
}

export async function connectComponent(port: number, domain: string, secret: string): Promise<RawComponent> {
  const { socket, header, parser } = await openStream(port, domain);
  const stanzas: Element[] = [];
  const listeners: ((el: Element) => void)[] = [];
  let handshaken: (() => void) | undefined;
  let failed: ((err: Error) => void) | undefined;
  parser.on("element", (el) => {
    if (el.name === "handshake") {
      handshaken?.();
      return;
    }
    if (el.name === "stream:error") {
      failed?.(new Error(`component stream error: ${el.toString()}`));
      return;
    }
    stanzas.push(el);
    for (const l of listeners) l(el);
  });
  const done = new Promise<void>((resolve, reject) => {
    handshaken = resolve;
    failed = reject;
  });
  const digest = createHash("sha1")
    .update(`${header.attrs["id"] ?? ""}${secret}`)
    .digest("hex");
  socket.write(`<handshake>${digest}</handshake>`);
  await done;
  return {
    stanzas,
    onStanza: (l) => {
      // Replay what arrived before the listener (the server may query right after the handshake).
      for (const el of stanzas) l(el);
      listeners.push(l);
    },
    send: (el) => socket.write(el.toString()),
    close: () => {
      socket.end("</stream:stream>");
      socket.destroy();
    },
  };
}
