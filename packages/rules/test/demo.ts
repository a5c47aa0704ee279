// The demo policy (deploy/quickstart/demo-policy.xml) the rules' tests read.
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

export const demoPolicyFile = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../../../deploy/quickstart/demo-policy.xml",
);
