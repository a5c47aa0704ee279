// Policy hot reload (SIGHUP or POST /policies/reload): re-read every configured SPIF file into a
// fresh registry; if any file fails to load, the governing policy is missing, or a component cannot
// re-bind what it holds (room labels, configured labels and catalogs) under the new set, nothing
// changes and the error is returned. Otherwise the shared registry switches atomically
// (PolicyRegistry.replaceAll) and each component installs its re-bound state in the same tick, so
// no decision ever mixes objects of the old and the new policies (acdf denies such a mix).
// An uploaded SPIF (the console, POST /policies) goes through the same path: it stands in for the
// configured file holding a policy with its id, every check above runs on the set with it, and
// the file is replaced (written beside it, then renamed over it) only when all of them passed,
// just before the switch; a refused upload leaves the file and the loaded set as they were.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { loadPolicy, PolicyRegistry, type Policy } from "@cordon/policy";
import type { Logger } from "@cordon/component";
import type { RuntimeEnvironment } from "./environment.js";
import type { CordonMetrics } from "./metrics/registry.js";
import { PolicyReloadError, PolicyUploadError } from "./ops-errors.js";

/** What a component holds that is bound to Policy objects. */
export interface PolicyRebinder {
  /** Re-parses under `next` (throw when something no longer parses); returns what installs it. */
  prepare(next: { registry: PolicyRegistry; governing: Policy }): () => void;
}

export interface ReloadSummary {
  generation: number;
  policies: { id: string; name: string }[];
  /** The id of the uploaded policy, when the reload installed one. */
  uploaded?: string;
}

/** The SPIF files a config names: top-level `policies` and the relay's extra `policies`. */
export function configuredPolicyFiles(env: RuntimeEnvironment): string[] {
  const root = env.config.root;
  const relay = env.config.components.get("relay");
  return [...root.stringList("policies"), ...(relay?.stringList("policies") ?? [])].map((f) => env.path(f));
}

export class PolicyReloader {
  readonly #env: RuntimeEnvironment;
  readonly #rebinders: { name: string; rebinder: PolicyRebinder }[] = [];
  readonly #logger: Logger;
  readonly #metrics: CordonMetrics | undefined;
  #running: Promise<ReloadSummary> | undefined;

  constructor(env: RuntimeEnvironment, options: { logger: Logger; metrics?: CordonMetrics }) {
    this.#env = env;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#metrics?.policyGeneration.set(env.registry.generation);
  }

  add(name: string, rebinder: PolicyRebinder): void {
    this.#rebinders.push({ name, rebinder });
  }

  /**
   * One reload at a time: a second call while one runs waits for it and then runs its own.
   * `upload`: a SPIF document replacing the configured file of the policy with its id.
   */
  reload(options: { upload?: string } = {}): Promise<ReloadSummary> {
    const previous = this.#running ?? Promise.resolve(undefined);
    const run = previous.catch(() => undefined).then(() => this.#reload(options.upload));
    this.#running = run;
    return run;
  }

  async #reload(upload?: string): Promise<ReloadSummary> {
    const env = this.#env;
    try {
      let uploaded: Policy | undefined;
      if (upload !== undefined) {
        try {
          uploaded = loadPolicy(upload);
        } catch (error) {
          throw new PolicyUploadError(
            `the uploaded policy does not load: ${bounded((error as Error).message)}`,
            {
              cause: error,
            },
          );
        }
      }
      let replaced: string | undefined;
      const next = new PolicyRegistry();
      for (const file of configuredPolicyFiles(env)) {
        let text: string;
        try {
          text = await readFile(file, "utf8");
        } catch (error) {
          throw new PolicyReloadError(
            `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
            file,
          );
        }
        let policy: Policy;
        try {
          policy = loadPolicy(text);
        } catch (error) {
          throw new PolicyReloadError(`${file}: ${(error as Error).message}`, file, { cause: error });
        }
        if (uploaded && policy.id === uploaded.id && replaced === undefined) {
          replaced = file;
          policy = uploaded;
        }
        next.register(policy);
      }
      if (uploaded && replaced === undefined)
        throw new PolicyUploadError(
          `no configured policy file holds policy ${bounded(uploaded.id)}: add the file to \`policies\` in the configuration first`,
        );
      const governingId = env.config.root.optionalString("governingPolicy") ?? next.policies()[0]?.id ?? "";
      const governing = next.byId(governingId);
      if (!governing)
        throw new PolicyReloadError(`no policy in the new set has the governing id ${governingId}`);
      const installs: (() => void)[] = [];
      for (const { name, rebinder } of this.#rebinders) {
        try {
          installs.push(rebinder.prepare({ registry: next, governing }));
        } catch (error) {
          throw new PolicyReloadError(
            `component ${name} cannot use the new policies: ${(error as Error).message}`,
            undefined,
            { cause: error },
          );
        }
      }
      // The uploaded document replaces its file only now that every check passed — synchronously:
      // nothing may run between the components' re-reading and their install (adv15: across an
      // awaited write the MUC went on, and its install then put back a room's security settings
      // as re-read before an owner's change made meanwhile, and left rooms, occupants and labels
      // made meanwhile bound to the old policies).
      if (replaced !== undefined && upload !== undefined) replaceFile(replaced, upload);
      // From here on, synchronous: nothing runs between the switch and the re-binding.
      env.registry.replaceAll(next.policies());
      env.governing = governing;
      for (const install of installs) install();
      const summary: ReloadSummary = {
        generation: env.registry.generation,
        policies: env.registry.policies().map((p) => ({ id: p.id, name: p.name })),
        ...(uploaded ? { uploaded: uploaded.id } : {}),
      };
      this.#metrics?.policyReloads.labels("ok").inc();
      this.#metrics?.policyGeneration.set(summary.generation);
      this.#logger.info(
        { generation: summary.generation, policies: summary.policies.map((p) => p.id) },
        "policies reloaded",
      );
      return summary;
    } catch (error) {
      this.#metrics?.policyReloads.labels("rejected").inc();
      const rejected =
        error instanceof PolicyReloadError || error instanceof PolicyUploadError
          ? error
          : new PolicyReloadError((error as Error).message, undefined, { cause: error });
      this.#logger.error(
        { code: rejected.code, err: rejected.message },
        "policy reload rejected; the old policies stay in force",
      );
      throw rejected;
    }
  }
}

/** An error text quoting a document, bounded (it may carry the uploader's text). */
function bounded(text: string, max = 300): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Writes beside the file and renames over it: a reader sees the old file or the new one, whole.
 * The temporary file is new (O_EXCL, an unpredictable name): never a link or file someone left at a
 * guessable name, which the write would follow out of the policy directory and the rename would
 * then put in the policy's place (found in review, advconsole). The file keeps its permissions.
 */
function replaceFile(file: string, text: string): void {
  const temporary = `${file}.upload-${process.pid}-${randomBytes(8).toString("hex")}`;
  try {
    let mode = 0o644;
    try {
      mode = statSync(file).mode & 0o777;
    } catch {
      // No file (yet): the default mode.
    }
    writeFileSync(temporary, text, { mode, flag: "wx" });
    renameSync(temporary, file);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // Never written, or already renamed.
    }
    throw new PolicyUploadError(
      `cannot replace ${file} (${(error as NodeJS.ErrnoException).code ?? "error"}): nothing changed`,
      { cause: error },
    );
  }
}
