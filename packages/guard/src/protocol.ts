// The guard protocol, between a server module (Prosody mod_cordon_guard, ejabberd
// mod_cordon_guard) and the guard, over the XEP-0114 link the guard already has (an IQ from the
// server's own domain to the guard's):
//
//   <iq type='get' from='example.test' to='guard.example.test' id='…'>
//     <check xmlns='urn:cordon:guard:0' origin='c2s|s2s'>
//       <message xmlns='jabber:client' from='…' to='…'>…</message>    (as the server would deliver it)
//     </check></iq>
//
//   <verdict xmlns='urn:cordon:guard:0' action='deliver'><message xmlns='jabber:client'>…</message></verdict>
//       the message's children as they must be delivered (its addresses stay the server's)
//   <verdict action='refuse'><message xmlns='jabber:client' type='error' …/></verdict>
//       the error the sender gets, built here: nothing of the message in it (RFC 6120 §8.3)
//   <verdict action='drop'/>
//       nothing is delivered and nobody is told (an error message is never answered, RFC 6120 §8.3.1)
//
// An IQ error, a timeout or no answer at all: the module refuses with a `wait` error (fail closed).
import { isElement, xml, type Element } from "@cordon/component";
import { NS_CLIENT, NS_GUARD } from "./namespaces.js";

/** Where the message came from, as only the server knows: one of its client sessions, or another server. */
export type CheckOrigin = "c2s" | "s2s";

export interface CheckRequest {
  readonly origin: CheckOrigin;
  readonly message: Element;
}

export type Verdict =
  | { readonly action: "deliver"; readonly message: Element }
  | { readonly action: "refuse"; readonly error: Element }
  | { readonly action: "drop" };

/** The request in a `<check/>`, or undefined when it is not one (answered bad-request). */
export function readCheck(check: Element): CheckRequest | undefined {
  const origin = check.attrs.origin;
  if (origin !== "c2s" && origin !== "s2s") return undefined;
  const children = check.children.filter(isElement);
  const message = children[0];
  if (children.length !== 1 || message?.name !== "message") return undefined;
  if (message.attrs.xmlns !== undefined && message.attrs.xmlns !== NS_CLIENT) return undefined;
  return { origin, message };
}

/** The `<verdict/>` element answering a check. */
export function verdictElement(verdict: Verdict): Element {
  switch (verdict.action) {
    case "deliver":
      return xml("verdict", { xmlns: NS_GUARD, action: "deliver" }, inClientNs(verdict.message));
    case "refuse":
      return xml("verdict", { xmlns: NS_GUARD, action: "refuse" }, inClientNs(verdict.error));
    case "drop":
      return xml("verdict", { xmlns: NS_GUARD, action: "drop" });
  }
}

/** A stanza embedded in a verdict names its namespace: the component stream's is not the client's. */
function inClientNs(stanza: Element): Element {
  stanza.attrs.xmlns = NS_CLIENT;
  return stanza;
}
