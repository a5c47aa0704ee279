// cordon peer set|get|list|rm — clearances of peer domains, per direction (inbound: what the peer
// may send us; outbound: what we may send the peer), in the shared store.
//   peer set DOMAIN inbound|outbound|both FILE|- --policy SPIF…   store; prints the marking
//   peer get DOMAIN [inbound|outbound] [--policy SPIF…]             print (exit 1 if none)
//   peer list [--policy SPIF…]
//   peer rm DOMAIN inbound|outbound|both
// Store: --redis URL (key prefix --prefix or CORDON_REDIS_PREFIX), or --config FILE (its store.redis:
// one Redis or Sentinel), else REDIS_URL, else CORDON_CONFIG (store-access.ts).
import type { PeerDirection } from "@cordon/store";
import type { Command, CommandIo } from "../command.js";
import { parseArgs, UsageError } from "./io.js";
import { registryFrom } from "./policies.js";
import { describeClearance, openStore, readClearanceFile, STORE_OPTIONS } from "./store-access.js";

const USAGE =
  "usage: cordon peer set DOMAIN inbound|outbound|both FILE|- --policy SPIF | get DOMAIN [DIRECTION] | list | rm DOMAIN DIRECTION  [--redis URL | --config FILE]";

function directions(word: string | undefined, allowBoth: boolean): PeerDirection[] {
  if (word === "inbound" || word === "outbound") return [word];
  if (word === "both" && allowBoth) return ["inbound", "outbound"];
  throw new UsageError(`direction must be inbound, outbound${allowBoth ? " or both" : ""}; ${USAGE}`);
}

async function run(args: readonly string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = args;
  const p = parseArgs(rest, ["policy", ...STORE_OPTIONS]);
  const [domain, dirWord, file] = p.positional;
  const ok =
    (sub === "set" && p.positional.length === 3) ||
    (sub === "get" && (p.positional.length === 1 || p.positional.length === 2)) ||
    (sub === "list" && p.positional.length === 0) ||
    (sub === "rm" && p.positional.length === 2);
  if (!ok || sub === undefined) throw new UsageError(USAGE);
  const dirs =
    sub === "list"
      ? []
      : sub === "get" && dirWord === undefined
        ? directions("both", true)
        : directions(dirWord, sub !== "get");
  const input = sub === "set" ? readClearanceFile(file ?? "-", registryFrom(p)) : undefined;
  const registry = sub !== "set" && (p.options.get("policy") ?? []).length > 0 ? registryFrom(p) : undefined;
  const store = await openStore(p);
  const d = (domain ?? "").toLowerCase();
  try {
    switch (sub) {
      case "set":
        for (const dir of dirs) await store.setPeerClearance(domain ?? "", dir, input!.raw);
        for (const dir of dirs) io.stdout(`${d} ${dir}: ${input!.marking}`);
        return 0;
      case "get": {
        let found = 0;
        for (const dir of dirs) {
          const r = await store.getPeerClearance(domain ?? "", dir);
          if (r.status === "unknown") {
            io.stderr(`cordon peer: store unavailable: ${r.reason}`);
            return 2;
          }
          if (r.status === "known") found++;
          io.stdout(
            `${d} ${dir}: ${r.status === "known" ? describeClearance(r.clearance, registry) : "no clearance in the store"}`,
          );
        }
        return found > 0 ? 0 : 1;
      }
      case "list":
        for (const e of await store.listPeerClearances())
          io.stdout(`${e.domain}\t${e.direction}\t${describeClearance(e.clearance, registry)}`);
        return 0;
      case "rm": {
        let removed = 0;
        for (const dir of dirs) {
          const r = await store.deletePeerClearance(domain ?? "", dir);
          if (r) removed++;
          io.stdout(`${d} ${dir}: ${r ? "removed" : "no clearance in the store"}`);
        }
        return removed > 0 ? 0 : 1;
      }
      default:
        throw new UsageError(USAGE);
    }
  } finally {
    await store.close();
  }
}

export const peerCommand: Command = {
  name: "peer",
  summary:
    "peer set|get|list|rm DOMAIN [DIRECTION] [FILE] — peer-domain clearances in the store (--redis URL or --config FILE)",
  run: (args, io) => run(args, io),
};
