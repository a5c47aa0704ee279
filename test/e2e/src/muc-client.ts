// What a MUC client does in the e2e tests (XEP-0045 §7.2 entering, §10.2 configuring), shared by
// every MUC test file.
import { xml, type TestClient, type Element } from "@cordon/harness";

const NS_MUC = "http://jabber.org/protocol/muc";
const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
const NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner";

/** The status codes of a MUC presence. */
export const statusCodes = (p: Element): string[] =>
  p
    .getChild("x", NS_MUC_USER)
    ?.getChildren("status")
    .map((s) => s.attrs.code ?? "") ?? [];

/** The defined condition of an error stanza. */
export const errorCondition = (stanza: Element): string | undefined =>
  stanza.getChild("error")?.children.find((c): c is Element => typeof c !== "string" && c.name !== "text")
    ?.name;

/**
 * Joins room/nick and resolves with the self-presence (110) or the error presence; on success it
 * also waits for the subject, always the last stanza of the join (XEP-0045 §7.2.16), so history
 * has arrived when it returns. `muc` children (history, password) go into the join's <x/>.
 */
export async function joinRoom(
  client: TestClient,
  room: string,
  nick: string,
  muc: Element[] = [],
): Promise<Element> {
  await client.send(xml("presence", { to: `${room}/${nick}` }, xml("x", { xmlns: NS_MUC }, ...muc)));
  const self = await client.waitFor(
    (p) =>
      p.is("presence") &&
      p.attrs.from === `${room}/${nick}` &&
      (p.attrs.type === "error" || statusCodes(p).includes("110")),
    8000,
  );
  if (self.attrs.type !== "error")
    await client.waitFor(
      (m) =>
        m.is("message") &&
        m.attrs.from?.startsWith(room) === true &&
        m.getChild("subject") !== undefined &&
        !m.getChild("body"),
      8000,
    );
  return self;
}

/** Submits muc#roomconfig fields (an empty set makes an instant room). */
export async function configureRoom(
  owner: TestClient,
  room: string,
  fields: Record<string, string | string[]> = {},
): Promise<void> {
  const form = xml("x", { xmlns: "jabber:x:data", type: "submit" });
  for (const [k, v] of Object.entries(fields))
    form.append(xml("field", { var: k }, ...(Array.isArray(v) ? v : [v]).map((x) => xml("value", {}, x))));
  await owner.iq(xml("iq", { type: "set", to: room }, xml("query", { xmlns: NS_MUC_OWNER }, form)));
}
