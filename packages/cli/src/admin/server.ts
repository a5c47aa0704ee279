// The admin API's HTTP server (node:http, no framework): reads a bounded body, calls the handler,
// writes its answer. Listens where the config says (loopback by default, admin/config.ts).
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { CSRF_HEADER, SECURITY_HEADERS } from "@cordon/console";
import type { Logger } from "@cordon/component";
import { AdminBodyTooLargeError, AdminBusyError } from "../ops-errors.js";
import { errorResponse, type AdminRequest, type AdminResponse } from "./handler.js";

export const MAX_BODY_BYTES = 64 * 1024;
/** SPIF uploads and bulk clearance imports: whole files (a national SPIF runs to hundreds of KiB). */
export const MAX_FILE_BODY_BYTES = 2 * 1024 * 1024;

/**
 * Bodies of all requests being read at once, together. A body is read before the request is
 * authenticated, so without this bound anyone who can connect held 2 MiB a connection on the upload
 * paths, as many connections as they opened (found in review, advconsole).
 */
export const MAX_INFLIGHT_BODY_BYTES = 16 * 1024 * 1024;

/**
 * Connections open at once; past it a new one is closed at once. A connection is accepted before
 * anything is known of its sender and a silent one stays until the 30 s request timeout is checked:
 * without this bound anyone who could connect held ~9 KB of the process a connection, as many as
 * they opened (found in review, adv16: 8,000 idle connections, 75 MB, none closed within 60 s), up
 * to the memory or descriptors every component of the process needs. An operator's browser keeps
 * a handful.
 */
export const MAX_CONNECTIONS = 256;

/** The body limit of a request: files on the two upload paths, 64 KiB everywhere else. */
export function bodyLimit(url: string | undefined): number {
  const path = (url ?? "/").split("?")[0];
  return path === "/policies" || path === "/clearances/import" ? MAX_FILE_BODY_BYTES : MAX_BODY_BYTES;
}

export interface AdminServer {
  /** e.g. http://127.0.0.1:9090 */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startAdminServer(options: {
  host: string;
  port: number;
  handler: (req: AdminRequest) => Promise<AdminResponse>;
  logger?: Logger;
}): Promise<AdminServer> {
  const inflight = { bytes: 0, max: MAX_INFLIGHT_BODY_BYTES };
  const server: Server = createServer((req, res) => {
    readBody(req, bodyLimit(req.url), inflight)
      .then((body) =>
        options.handler({
          method: req.method ?? "GET",
          url: req.url ?? "/",
          authorization: req.headers.authorization,
          host: req.headers.host,
          origin: req.headers.origin,
          contentType: req.headers["content-type"],
          cookie: req.headers.cookie,
          csrf: header(req.headers[CSRF_HEADER]),
          secure: (req.socket as Partial<TLSSocket>).encrypted === true,
          body,
        }),
      )
      .catch((error: unknown) => errorResponse(error))
      .then((answer) => {
        // Every answer carries the security headers (CSP, nosniff, no referrer, no framing).
        res.writeHead(answer.status, {
          ...SECURITY_HEADERS,
          "content-type": answer.contentType,
          "cache-control": "no-store",
          ...answer.headers,
        });
        res.end(req.method === "HEAD" ? undefined : answer.body);
        if (answer.status >= 500)
          options.logger?.warn({ method: req.method, status: answer.status }, "admin request failed");
        else options.logger?.debug({ method: req.method, status: answer.status }, "admin request");
      })
      .catch(() => res.destroy());
  });
  server.maxConnections = MAX_CONNECTIONS;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const header = (value: string | string[] | undefined): string | undefined =>
  Array.isArray(value) ? value[0] : value;

/** Reads a body of at most `limit` bytes, counting it in the listener's `inflight` bytes meanwhile. */
function readBody(
  req: IncomingMessage,
  limit: number,
  inflight: { bytes: number; max: number },
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      inflight.bytes -= size;
      if (error) {
        chunks.length = 0;
        reject(error);
        req.resume(); // the rest is read and dropped
      } else resolve(Buffer.concat(chunks));
    };
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      if (size + chunk.length > limit) return finish(new AdminBodyTooLargeError(limit));
      if (inflight.bytes + chunk.length > inflight.max) return finish(new AdminBusyError());
      size += chunk.length;
      inflight.bytes += chunk.length;
      chunks.push(chunk);
    });
    req.on("end", () => finish());
    req.on("error", (error) => finish(error));
    req.on("close", () => finish(new AdminBodyTooLargeError(limit)));
  });
}
