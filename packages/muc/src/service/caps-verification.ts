// XEP-0115 §5.1 (https://xmpp.org/extensions/xep-0115.html#ver-gen): the verification string of a
// disco#info result and its hash. A client's announced `ver` is trusted as a cache key only when
// the features it answers with hash to it (§5.4): otherwise a client could announce another
// client's `ver` and decide, for every client of that version, whether they get FLOT.
import { createHash } from "node:crypto";
import { isElement, type Element } from "@cordon/component";
import { NS_DATA } from "../namespaces.js";

/** IANA hash names (XEP-0115 §5.1 step 7) → node:crypto algorithms. */
const HASHES: Readonly<Record<string, string>> = {
  "sha-1": "sha1",
  "sha-224": "sha224",
  "sha-256": "sha256",
  "sha-384": "sha384",
  "sha-512": "sha512",
};

/** i;octet collation (RFC 4790 §9.3): compares the UTF-8 bytes. */
function octetCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export function capsVerificationString(query: Element): string {
  const children = query.children.filter(isElement);
  const identities = children
    .filter((c) => c.name === "identity")
    .map(
      (i) =>
        `${i.attrs.category ?? ""}/${i.attrs.type ?? ""}/${i.attrs["xml:lang"] ?? ""}/${i.attrs.name ?? ""}`,
    )
    .sort(octetCompare);
  const features = children
    .filter((c) => c.name === "feature")
    .map((f) => f.attrs.var ?? "")
    .sort(octetCompare);
  let s = identities.map((i) => `${i}<`).join("") + features.map((f) => `${f}<`).join("");
  const forms = children
    .filter((c) => c.name === "x" && c.attrs.xmlns === NS_DATA)
    .map((form) => {
      const fields = form.getChildren("field");
      const type = fields.find((f) => f.attrs.var === "FORM_TYPE")?.getChildText("value") ?? "";
      const rest = fields
        .filter((f) => f.attrs.var !== "FORM_TYPE")
        .sort((a, b) => octetCompare(a.attrs.var ?? "", b.attrs.var ?? ""))
        .map(
          (f) =>
            `${f.attrs.var ?? ""}<${f
              .getChildren("value")
              .map((v) => v.getText())
              .sort(octetCompare)
              .map((v) => `${v}<`)
              .join("")}`,
        );
      return { type, text: `${type}<${rest.join("")}` };
    })
    .sort((a, b) => octetCompare(a.type, b.type));
  for (const f of forms) s += f.text;
  return s;
}

/** Whether `query` hashes to `ver` with the announced algorithm; false for unknown algorithms. */
export function capsVerified(query: Element, hash: string | undefined, ver: string): boolean {
  const algorithm = hash ? HASHES[hash.toLowerCase()] : undefined;
  if (!algorithm) return false;
  return createHash(algorithm).update(capsVerificationString(query), "utf8").digest("base64") === ver;
}
