// LDAP search filters built from a template, with values escaped per RFC 4515 §3
// (https://www.rfc-editor.org/rfc/rfc4515#section-3): in an assertion value the characters
// '*', '(', ')', '\' and NUL must be written as \2a, \28, \29, \5c and \00.
import { DirectoryConfigError } from "./errors.js";
import { domainOf, localpartOf } from "./jid.js";

const PLACEHOLDER = /\{([a-z]+)\}/gu;
const KNOWN = new Set(["jid", "localpart", "domain"]);

/** Escapes one assertion value (RFC 4515 §3 `valueencoding`). */
export function escapeFilterValue(value: string): string {
  let out = "";
  for (const ch of value) {
    switch (ch) {
      case "*":
        out += "\\2a";
        break;
      case "(":
        out += "\\28";
        break;
      case ")":
        out += "\\29";
        break;
      case "\\":
        out += "\\5c";
        break;
      case "\u0000":
        out += "\\00";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

/** Checks a filter template: balanced parentheses, only known placeholders, at least one of them. */
export function checkFilterTemplate(template: string): void {
  let depth = 0;
  for (const ch of template.replace(/\\[0-9a-fA-F]{2}/gu, "")) {
    if (ch === "(") depth++;
    else if (ch === ")" && --depth < 0) break;
  }
  if (depth !== 0 || !template.startsWith("("))
    throw new DirectoryConfigError(`filter template is not a parenthesised RFC 4515 filter: ${template}`);
  let found = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    if (!KNOWN.has(m[1] ?? ""))
      throw new DirectoryConfigError(
        `unknown placeholder {${m[1]}} in filter template (use {jid}, {localpart}, {domain})`,
      );
    found++;
  }
  if (found === 0)
    throw new DirectoryConfigError("filter template must contain {jid}, {localpart} or {domain}");
}

/** Fills a template such as `(&(objectClass=cordonPerson)(jid={jid}))` for a normalised bare JID. */
export function buildFilter(template: string, bareJid: string): string {
  const values: Record<string, string> = {
    jid: bareJid,
    localpart: localpartOf(bareJid),
    domain: domainOf(bareJid),
  };
  return template.replace(PLACEHOLDER, (_m, name: string) => escapeFilterValue(values[name] ?? ""));
}
