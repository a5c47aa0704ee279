// @cordon/harness: real Prosody and ejabberd servers, and real clients, for Cordon's tests.
export type {
  ServerKind,
  ComponentDecl,
  DelegationDecl,
  NativeMucDecl,
  GuardDecl,
  ServerOptions,
  XmppServer,
} from "./types.js";
export { startServer, startProsody, startEjabberd, serverKinds } from "./server.js";
export { freePort } from "./ports.js";
export { connectClient } from "./client.js";
export { sendRaw, RawClient } from "./raw-client.js";
export { BoshClient } from "./bosh-client.js";
export type { TestClient, ConnectOptions, XmppClient, Client } from "./client.js";
export { xml, createParser } from "./xml.js";
export type { Element, XmlNode, XmlAttrs, XmlChild, XmlFactory, XmlParser } from "./xml.js";
export { renderTemplate, renderDeployFile, deployDir } from "./templates.js";
export type { TemplateData, TemplateValues } from "./templates.js";
export * from "./errors.js";
export * from "./redis.js";
export * from "./slapd.js";
export * from "./redis-sentinel.js";
export { startEjabberdCluster } from "./ejabberd-cluster.js";
export type { EjabberdCluster, EjabberdClusterOptions } from "./ejabberd-cluster.js";
export { subscriberDelay, type SubscriberDelay } from "./subscriber-delay.js";
