// The demo policy and a few labels/clearances for unit tests (pure logic, real policy engine).
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import {
  PolicyRegistry,
  makeLabel,
  makeClearance,
  buildSecurityLabelXml,
  type Label,
  type Clearance,
} from "@cordon/policy";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const registry = new PolicyRegistry();
export const policy = registry.loadFileSync(resolve(repoRoot, "deploy/quickstart/demo-policy.xml"));

const cls = (n: string) => policy.classifications.find((c) => c.name === n)!;
const cat = (n: string) => policy.categories.find((c) => c.name === n)!;
export const label = (classification: string, ...categories: string[]): Label =>
  makeLabel(policy, cls(classification), categories.map(cat));
export const clearance = (classifications: string[], categories: string[] = []): Clearance =>
  makeClearance(policy, classifications.map(cls), categories.map(cat));
export const labelXml = (l: Label): string => buildSecurityLabelXml(l);
export const ALL = ["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP SECRET"];
