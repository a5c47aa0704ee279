// The demo policy, labels and clearances the e2e tests share (deploy/quickstart/demo-policy.xml).
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { PolicyRegistry, makeLabel, makeClearance, buildSecurityLabelXml, encodeBerClearance, type Label, type Clearance, type Policy } from "@cordon/policy";
import type { RawValue } from "@cordon/store";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const demoPolicyFile = resolve(repoRoot, "deploy/quickstart/demo-policy.xml");

export interface Demo {
  registry: PolicyRegistry;
  policy: Policy;
  label(classification: string, ...categories: string[]): Label;
  clearance(classifications: string[], categories?: string[]): Clearance;
  raw(clearance: Clearance): RawValue;
  labelXml(label: Label): string;
}

export function loadDemo(): Demo {
  const registry = new PolicyRegistry();
  const policy = registry.loadFileSync(demoPolicyFile);
  const cls = (name: string) => {
    const c = policy.classifications.find((x) => x.name === name);
    if (!c) throw new Error(`no classification ${name}`);
    return c;
  };
  const cat = (name: string) => {
    const c = policy.categories.find((x) => x.name === name);
    if (!c) throw new Error(`no category ${name}`);
    return c;
  };
  return {
    registry,
    policy,
    label: (classification, ...categories) => makeLabel(policy, cls(classification), categories.map(cat)),
    clearance: (classifications, categories = []) => makeClearance(policy, classifications.map(cls), categories.map(cat)),
    raw: (clearance) => ({ encoding: "ber", data: Buffer.from(encodeBerClearance(clearance)).toString("base64") }),
    labelXml: (label) => buildSecurityLabelXml(label),
  };
}
