// @cordon/component: the hardened XEP-0114 component runtime every Cordon component uses.
export { createComponent } from "./component.js";
export type {
  ComponentOptions,
  ComponentStatus,
  ComponentEvents,
  CordonComponent,
  StanzaHandler,
} from "./component.js";
export { createExampleComponent } from "./example.js";
export * from "./namespaces.js";
export { xml, parseElement, isElement, escapeXml, escapeXmlText, createParser } from "./xml.js";
export { serialise } from "./serialise.js";
export type { Element, XmlNode, Attrs, Child, XmlFactory, XmlParser } from "./xml.js";
export {
  parseJid,
  bareJid,
  fullJid,
  toBare,
  foldLocalpart,
  foldDomainpart,
  foldResourcepart,
} from "@cordon/jid";
export type { Jid } from "@cordon/jid";
export { errorReply, errorElement, isErrorStanza, readStanzaError } from "./stanza-error.js";
export type { ErrorCondition, ErrorType, StanzaErrorSpec } from "./stanza-error.js";
export { StanzaErrorException, stanzaError } from "./stanza-error-exception.js";
export { createIqRouter, iqResult } from "./iq-router.js";
export type { IqHandler, IqHandlers, IqRequest, IqRouter, IqOutcome } from "./iq-router.js";
export { registerDisco, discoInfoElement, discoItemsElement, itemsWithin, resultForm } from "./disco.js";
export type {
  DiscoIdentity,
  DiscoInfo,
  DiscoItem,
  DiscoQuery,
  DiscoInfoResolver,
  DiscoItemsResolver,
} from "./disco.js";
export { createBackoff } from "./backoff.js";
export type { Backoff, BackoffOptions } from "./backoff.js";
export { createOutgoingQueue, DEFAULT_QUEUE_BYTES } from "./outgoing-queue.js";
export {
  stanzaLimits,
  serialisedBytes,
  textBytes,
  serialisedFits,
  textFits,
  oversizePart,
  DEFAULT_MAX_STANZA_BYTES,
  MIN_MAX_STANZA_BYTES,
} from "./stanza-limits.js";
export type { StanzaLimits, StanzaPart } from "./stanza-limits.js";
export type { OutgoingQueue, OutgoingQueueOptions, QueueSink } from "./outgoing-queue.js";
export type { StanzaCopies } from "./send.js";
export { createLogger, silentLogger, jidForLog, redactJid } from "./logger.js";
export type { Logger, LoggerOptions } from "./logger.js";
export { loadConfigFile, parseConfig, readConnection, readMaxStanzaBytes, LOG_LEVELS } from "./config.js";
export type { CordonConfig, ConnectionConfig, LogConfig } from "./config.js";
export { ConfigReader, isObject } from "./config-reader.js";
export { installShutdown } from "./shutdown.js";
export type { Stoppable, ShutdownOptions } from "./shutdown.js";
export * from "./errors.js";
export {
  delegate,
  delegatedBy,
  parseDelegationNode,
  DelegationConfigError,
  NS_DELEGATION_1,
  NS_DELEGATION_2,
  DELEGATION_NAMESPACES,
} from "./delegation.js";
export type { DelegateOptions } from "./delegation.js";
export { hiddenContent } from "./hidden-content.js";
export type { HiddenContent } from "./hidden-content.js";
export {
  SenderThrottle,
  DEFAULT_THROTTLE,
  RESOURCE_CONSTRAINT,
  throttleKey,
  throttledSpec,
} from "./sender-throttle.js";
export type { SenderThrottleOptions, ThrottleVerdict } from "./sender-throttle.js";
export { PendingBudget, DEFAULT_PENDING } from "./pending-budget.js";
export type { PendingLimits, Release } from "./pending-budget.js";
export { elementBytes } from "./element-bytes.js";
export { readRuntimeLimits, readBytes, RUNTIME_LIMIT_KEYS } from "./limits-config.js";
export type { RuntimeLimits } from "./limits-config.js";
export type { BufferUse } from "./buffer-use.js";
export {
  createIncomingHold,
  type HeardGate,
  type IncomingHold,
  type IncomingHoldOptions,
} from "./incoming-hold.js";
