// Policy routes of the admin API (the console's Policies page):
//   GET  /policies          loaded policies: classifications (marking and colours as they will
//                           appear), tag sets, tags and categories (names to pick, `TagSet/NAME`)
//   POST /policies          upload a SPIF (application/xml): it replaces the configured file that holds
//                           a policy with its id, only after it loads and every component re-reads what
//                           it holds under the new set (reload.ts); else 422 with the reason, nothing changed
//   POST /policies/reload   re-read every policy file (422 and the old set kept on failure)
//   POST /policies/test     the label tester: {label, clearance} -> grant or deny, and why
// The tester decides as the components do: the label is read as a stanza's <securitylabel/> is
// (@cordon/rules StanzaLabels: decoding, validity, equivalent forms — its refusal reasons), and the
// decision is the X.841 ACDF through @cordon/rules Translations.decide (the label in the clearance's
// policy first). Nothing here decides on its own.
import { createHash } from "node:crypto";
import {
  buildSecurityLabelXml,
  clearanceFromSpec,
  labelFromSpec,
  makeLabel,
  SpecError,
  type AcdfReason,
  type Clearance,
  type Label,
  type Policy,
} from "@cordon/policy";
import { REFUSAL_REASONS, StanzaLabels, type RefusalReason } from "@cordon/rules";
import { AdminBadRequestError, AdminNotRunningError, AdminNotFoundError } from "../../ops-errors.js";
import type { RoutedRequest } from "../http.js";
import type { ReloadSummary } from "../../reload.js";
import {
  audited,
  auditWritable,
  clearanceDetail,
  clearanceView,
  clip,
  json,
  jsonBody,
  labelView,
  readRaw,
  type PeopleContext,
  type PeopleRouteSpec,
} from "./people.js";
import { userJid } from "../../clearance-import.js";

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** Why the ACDF decided as it did: fixed texts, one per reason (X.841 §8.2, docs/spif.md §5). */
const ACDF_WHY: Record<AcdfReason, string> = {
  CORDON_ACDF_GRANTED: "the clearance holds the label's classification and every category the label requires",
  CORDON_ACDF_NO_LABEL: "there is no label",
  CORDON_ACDF_NO_CLEARANCE: "there is no clearance",
  CORDON_ACDF_POLICY_MISMATCH:
    "the label is in another policy and has no equivalent in the clearance's policy",
  CORDON_ACDF_CLASSIFICATION: "the clearance does not hold the label's classification",
  CORDON_ACDF_RESTRICTIVE_CATEGORY: "the label has a restrictive category the clearance does not hold",
  CORDON_ACDF_PERMISSIVE_CATEGORY:
    "the clearance holds none of the categories of one of the label's permissive groups",
};

export function policyView(policy: Policy, governing: Policy) {
  // Tag sets holding each category name, counted once: asking every category of every other
  // (found in review, adv16) was quadratic — a 1.6 MB SPIF of 40,000 categories (within the upload
  // limit) held the process, and every component in it, for 47 s at each GET /policies, which the
  // Clearances page sends when any viewer opens it.
  const tagSetsOf = new Map<string, Set<Policy["categories"][number]["tagSet"]>>();
  for (const c of policy.categories) {
    const sets = tagSetsOf.get(c.name) ?? new Set();
    sets.add(c.tagSet);
    tagSetsOf.set(c.name, sets);
  }
  return {
    id: policy.id,
    name: policy.name,
    governing: policy === governing,
    classifications: policy.classifications.map((c) => ({
      name: c.name,
      lacv: c.lacv,
      hierarchy: c.hierarchy,
      ...(c.obsolete ? { obsolete: true } : {}),
      // A label of this classification alone, as it will appear (marking and colours).
      marking: labelView(makeLabel(policy, c, [])),
    })),
    tagSets: policy.tagSets.map((ts) => ({
      name: ts.name,
      id: ts.id,
      tags: ts.tags.map((t) => ({
        name: t.name,
        tagType: t.tagType,
        categories: t.categories.map((c) => ({
          name: c.name,
          lacv: c.lacv,
          // The name to write (in a clearance's categories): TagSet/NAME when another tag set shares it.
          ref: (tagSetsOf.get(c.name)?.size ?? 0) > 1 ? `${ts.name}/${c.name}` : c.name,
          ...(c.obsolete ? { obsolete: true } : {}),
        })),
      })),
    })),
  };
}

export function policyRoutes(ctx: PeopleContext): PeopleRouteSpec[] {
  /**
   * Runs a policy change once the audit log can take it, and records it: the new generation, or
   * the refusal's code (who tried is recorded too); the refusal is what the caller hears either way.
   */
  async function auditedPolicyChange(
    req: RoutedRequest,
    action: "policy-upload" | "policy-reload",
    change: () => Promise<ReloadSummary>,
    document?: string,
  ) {
    auditWritable(ctx);
    // An upload's record names the document exactly (its SHA-256) and, once installed, the policy it
    // replaced (found in review, adv16: "generation N" alone tied no policy in force to its upload).
    const target = document !== undefined ? { target: `sha256:${sha256(document)}` } : {};
    try {
      const summary = await change();
      await audited(ctx, req, [
        {
          action,
          decision: "change",
          reason: "admin-api",
          detail: `generation ${summary.generation}`,
          ...target,
          ...(summary.uploaded !== undefined ? { policy: summary.uploaded } : {}),
        },
      ]);
      return json(200, summary);
    } catch (error) {
      await audited(ctx, req, [
        {
          action,
          decision: "deny",
          reason: "admin-api",
          detail: (error as { code?: string }).code ?? "error",
          ...target,
        },
      ]).catch(() => undefined);
      throw error;
    }
  }

  async function upload(req: RoutedRequest) {
    const put = ctx.uploadPolicy?.bind(ctx);
    if (!put) throw new AdminNotRunningError("policy upload");
    const type = (req.contentType ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/xml") throw new AdminBadRequestError("send the SPIF as application/xml");
    const text = Buffer.from(req.body).toString("utf8");
    if (text.trim() === "") throw new AdminBadRequestError("empty body: send a SPIF document");
    return auditedPolicyChange(req, "policy-upload", () => put(text), text);
  }

  async function reload(req: RoutedRequest) {
    const run = ctx.reload?.bind(ctx);
    if (!run) throw new AdminNotRunningError("policy reload");
    return auditedPolicyChange(req, "policy-reload", run);
  }

  /** The tester's clearance: by name, as data (XML, base64), or a user's (`{jid}`) as the console shows it. */
  async function testClearance(value: unknown): Promise<Clearance> {
    const registry = ctx.registry();
    if (typeof value === "object" && value !== null && "jid" in value) {
      const jid = userJid(String((value as { jid: unknown }).jid));
      if (jid === undefined) throw new AdminBadRequestError("clearance.jid: not a user's bare JID");
      let found = await ctx.store.getUserClearance(jid, ctx.governing().id);
      if (found.status === "none" && ctx.directory)
        found = await ctx.directory.getUserClearance(jid, ctx.governing().id);
      if (found.status === "unknown")
        throw new AdminBadRequestError("clearance.jid: the store cannot say now");
      if (found.status === "none") throw new AdminNotFoundError(`clearance of ${clip(jid, 80)}`);
      const c = readRaw(found.clearance, registry);
      if (!c) throw new AdminBadRequestError("clearance.jid: the stored clearance does not parse");
      return c;
    }
    try {
      return clearanceFromSpec(value, "clearance", { registry, policy: ctx.governing().id });
    } catch (error) {
      if (error instanceof SpecError) throw new AdminBadRequestError(clip(error.message, 300));
      throw error;
    }
  }

  async function test(req: RoutedRequest) {
    const body = jsonBody(req);
    const registry = ctx.registry();
    const clearance = await testClearance(body.clearance);
    // The label as a <securitylabel/>: pasted as such, or built from names or label data.
    let xml: string;
    let given: Label | undefined;
    if (typeof body.label === "string" && body.label.trim().startsWith("<securitylabel")) {
      xml = body.label;
    } else {
      try {
        given = labelFromSpec(body.label, "label", { registry, policy: ctx.governing().id });
      } catch (error) {
        if (error instanceof SpecError) throw new AdminBadRequestError(clip(error.message, 300));
        throw error;
      }
      xml = buildSecurityLabelXml(given);
    }
    const labels = new StanzaLabels(registry, { maxCacheBytes: 64 * 1024, maxTranslationBytes: 64 * 1024 });
    const reading = labels.read(
      xml,
      registry.policies().map((p) => p.id),
    );
    const base = { clearance: { marking: clearanceView(clearance), ...clearanceDetail(clearance) } };
    if (!reading.ok) {
      const reason: RefusalReason = reading.problem;
      return json(200, { decision: "deny", reason, why: REFUSAL_REASONS[reason].text, ...base });
    }
    if (!reading.label) {
      return json(200, {
        decision: "deny",
        reason: "unlabelled",
        why: `${REFUSAL_REASONS.unlabelled.text} (an empty label means the default label)`,
        ...base,
      });
    }
    const decision = labels.translations.decide(reading.label, clearance);
    return json(200, {
      decision: decision.granted ? "grant" : "deny",
      reason: decision.reason,
      why: ACDF_WHY[decision.reason],
      label: { marking: labelView(reading.label), policy: reading.label.policy.id },
      ...base,
    });
  }

  return [
    {
      pattern: /^\/policies$/u,
      methods: {
        GET: async () => {
          const registry = ctx.registry();
          const governing = ctx.governing();
          return json(200, {
            governing: governing.id,
            generation: registry.generation,
            policies: registry.policies().map((p) => policyView(p, governing)),
          });
        },
        POST: (req) => upload(req),
      },
    },
    { pattern: /^\/policies\/reload$/u, methods: { POST: (req) => reload(req) } },
    // The tester changes nothing: a viewer may use it too.
    { pattern: /^\/policies\/test$/u, anyRole: true, methods: { POST: (req) => test(req) } },
  ];
}
