// The reference rule of one-to-one messages (issue 17; the MUC's is packages/muc/src/security/
// message-references.ts). A message that refers to another — an XEP-0444 reaction (<reactions id/>),
// an XEP-0308 correction (<replace id/>), an XEP-0461 reply (<reply id/>, with its XEP-0428
// fallback quote in the body), an XEP-0184 receipt, an XEP-0333 marker, an XEP-0424 retraction, any
// payload element naming a message by its id — names the message it refers to, and may quote it.
// So it is delivered only where every message it refers to may go: to a recipient the one-to-one
// rule grants each referenced label, and to each session (and sent carbon) whose client location
// grants each of them (decide.ts). Found in review (adv12g, e2e guard-attack12 G7): an unlabelled
// reaction to a SECRET message reached the recipient's session at an UNCLASSIFIED site, naming it.
//
// The guard remembers, per conversation (the two bare JIDs), the ids of the messages it delivered
// with their labels, and every label the conversation carried. A reference to an id it does not
// know (a message served from a module's verdict cache never reaches the guard; one older than
// what is remembered; a server-assigned stanza-id) is judged against every label the conversation
// carried. A conversation forgotten under the byte bound leaves its labels behind: a reference into
// a conversation the guard does not remember is judged against every label forgotten so (past 64
// distinct ones: refused). One never seen since the guard's start or a policy reload gives no label.
// Unlike the MUC's rule 1, a reference does not have to be labelled as high as what it names
// (clients do not label receipts and reactions): it is withheld from where that may not go instead.
import { isElement, NS_SEC_LABEL, type Element } from "@cordon/component";
import type { Label } from "@cordon/policy";
import { internalized, labelBytes } from "@cordon/policy";
import { labelKey, referencedIds as sharedReferencedIds } from "@cordon/rules";

/** Element ids looked at per message; a message naming more is refused. */
export const MAX_REFERENCES = 16;
/** Ids remembered per conversation (the oldest forgotten first; its label stays in the conversation's). */
export const MAX_IDS_PER_CONVERSATION = 512;
/** Labels remembered per id (an id sent again with another label keeps both). */
const MAX_LABELS_PER_ID = 4;
/** Distinct labels remembered per conversation; past it the conversation's references are refused. */
export const MAX_LABELS_PER_CONVERSATION = 64;
/** What the whole index may hold, in bytes (estimated); past it the least recent conversations go. */
export const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;
/** Longest id remembered; a longer one is not remembered (a reference to it is judged as unknown). */
const MAX_ID_LENGTH = 256;
const MAX_DEPTH = 8;
const ENTRY_BYTES = 96;

const NS_SID = "urn:xmpp:sid:0";
const NS_DELAY = "urn:xmpp:delay";

// (ejabberd's mod_mam marks each archived message <archived xmlns='urn:xmpp:mam:tmp' id/> with its
// archive id: an id the server set, naming no other message.)
const NS_MAM_TMP = "urn:xmpp:mam:tmp";
const SKIPPED = new Set([NS_SEC_LABEL, NS_SID, NS_DELAY, NS_MAM_TMP]);

/**
 * The ids a message's payload names: the `id` of every element below the top level except labels,
 * XEP-0359 ids, delays and ejabberd's archive marks. Undefined when there are more than MAX_REFERENCES.
 */
export function referencedIds(stanza: Element): string[] | undefined {
  return sharedReferencedIds(stanza, SKIPPED, MAX_REFERENCES, MAX_DEPTH);
}

/** The ids a delivered message may be referred to by: its own id and its XEP-0359 origin-id. */
function ownIds(message: Element): string[] {
  const ids: string[] = [];
  const id = message.attrs.id;
  if (id && id.length <= MAX_ID_LENGTH) ids.push(id);
  for (const child of message.children) {
    if (!isElement(child) || child.name !== "origin-id" || child.attrs.xmlns !== NS_SID) continue;
    const o = child.attrs.id;
    if (o && o.length <= MAX_ID_LENGTH && o !== id) ids.push(o);
  }
  return ids;
}

interface Conversation {
  /** Each remembered id's labels, oldest first. */
  readonly ids: Map<string, Label[]>;
  /** Every label the conversation carried while remembered (by labelKey). */
  readonly labels: Map<string, Label>;
  /** More distinct labels than MAX_LABELS_PER_CONVERSATION were carried: references are refused. */
  overflow: boolean;
  bytes: number;
}

export type ReferenceOutcome =
  | { readonly ok: true; readonly labels: readonly Label[] }
  | { readonly ok: false; readonly reason: "too-many-references" | "references-forgotten" };

/** The conversation key: the two bare JIDs, in order (either may send). */
export function conversationKey(a: string, b: string): string {
  return a < b ? `${a}\n${b}` : `${b}\n${a}`;
}

export class ConversationReferences {
  /** Least recent first (Map order; a use moves a conversation to the end). */
  private readonly conversations = new Map<string, Conversation>();
  private bytes = 0;
  /** The labels of the conversations forgotten under the byte bound (at most MAX_LABELS_PER_CONVERSATION). */
  private readonly forgotten = new Map<string, Label>();
  /** More distinct labels were forgotten than that: a reference into an unknown conversation is refused. */
  private forgottenOverflow = false;

  constructor(private readonly maxBytes = DEFAULT_MAX_BYTES) {}

  /** Estimated bytes held (tests, metrics). */
  get size(): number {
    return this.bytes;
  }

  /** Forgets everything (a policy reload: the labels kept belong to the old policies). */
  clear(): void {
    this.conversations.clear();
    this.bytes = 0;
    this.forgotten.clear();
    this.forgottenOverflow = false;
  }

  /** The labels of the messages `message` refers to in conversation `key`. */
  referenced(key: string, message: Element): ReferenceOutcome {
    const ids = referencedIds(message);
    if (!ids) return { ok: false, reason: "too-many-references" };
    if (ids.length === 0) return { ok: true, labels: [] };
    const conversation = this.conversations.get(key);
    // A conversation not remembered: it may be one forgotten under the byte bound (as the MUC's
    // index judges a reference it does not find against the labels it forgot).
    if (!conversation)
      return this.forgottenOverflow
        ? { ok: false, reason: "references-forgotten" }
        : { ok: true, labels: [...this.forgotten.values()] };
    this.touch(key, conversation);
    const found = new Map<string, Label>();
    for (const id of ids) {
      const known = conversation.ids.get(id);
      if (known) {
        for (const l of known) found.set(labelKey(l), l);
        continue;
      }
      // Not known: it may be any message of the conversation.
      if (conversation.overflow) return { ok: false, reason: "references-forgotten" };
      for (const [k, l] of conversation.labels) found.set(k, l);
    }
    return { ok: true, labels: [...found.values()] };
  }

  /** Remembers a message delivered in conversation `key` with `label`. */
  delivered(key: string, message: Element, label: Label): void {
    let conversation = this.conversations.get(key);
    if (!conversation) {
      // What is kept is a copy of its own (as every id below): a string cut from a stanza is a V8
      // view of the text the parser read, its whole socket read kept alive behind the few bytes
      // counted here (review keep15: 200 ids kept 40 MB alive behind 58 KB counted).
      key = internalized(key);
      conversation = {
        ids: new Map(),
        labels: new Map(),
        overflow: false,
        bytes: ENTRY_BYTES + 2 * key.length,
      };
      this.conversations.set(key, conversation);
      this.bytes += conversation.bytes;
    } else this.touch(key, conversation);
    const lk = labelKey(label);
    if (!conversation.labels.has(lk)) {
      if (conversation.labels.size >= MAX_LABELS_PER_CONVERSATION) conversation.overflow = true;
      else
        this.grow(conversation, ENTRY_BYTES + labelBytes(label) + 2 * lk.length, () =>
          conversation.labels.set(lk, label),
        );
    }
    for (const id of ownIds(message)) {
      const known = conversation.ids.get(id);
      if (known) {
        if (known.length < MAX_LABELS_PER_ID && !known.some((l) => labelKey(l) === lk)) known.push(label);
        continue;
      }
      if (conversation.ids.size >= MAX_IDS_PER_CONVERSATION) {
        const oldest = conversation.ids.keys().next().value;
        if (oldest !== undefined) {
          conversation.ids.delete(oldest);
          this.shrink(conversation, ENTRY_BYTES + 2 * oldest.length);
        }
      }
      this.grow(conversation, ENTRY_BYTES + 2 * id.length, () =>
        conversation.ids.set(internalized(id), [label]),
      );
    }
    this.evict();
  }

  private touch(key: string, conversation: Conversation): void {
    this.conversations.delete(key);
    this.conversations.set(key, conversation);
  }

  private grow(conversation: Conversation, bytes: number, add: () => void): void {
    add();
    conversation.bytes += bytes;
    this.bytes += bytes;
  }

  private shrink(conversation: Conversation, bytes: number): void {
    conversation.bytes -= bytes;
    this.bytes -= bytes;
  }

  private evict(): void {
    for (const [key, conversation] of this.conversations) {
      if (this.bytes <= this.maxBytes) return;
      this.conversations.delete(key);
      this.bytes -= conversation.bytes;
      if (conversation.overflow) this.forgottenOverflow = true;
      for (const [k, l] of conversation.labels) {
        if (this.forgotten.has(k)) continue;
        if (this.forgotten.size >= MAX_LABELS_PER_CONVERSATION) this.forgottenOverflow = true;
        else this.forgotten.set(k, l);
      }
    }
  }
}
