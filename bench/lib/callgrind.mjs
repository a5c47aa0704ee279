// Counting a server's instructions with valgrind's callgrind (Prosody only: ejabberd's BEAM
// JIT-compiles its code, which callgrind cannot follow usefully): a figure that does not move with
// the machine's load, where CPU time moves by 2-5x on a busy 2-vCPU box. The server runs under
// `callgrindWrapper()`; `zero` resets its counters, `dump` writes them and returns the instructions
// (Ir) counted since the last reset. Needs valgrind (callgrind_control).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { setTimeout as delay } from "node:timers/promises";

const VGDB_PREFIX = join(tmpdir(), `cordon-vgdb-${process.pid}`);

/** The interpreter of /usr/bin/prosody's #! line, e.g. ["lua5.4"] (callgrind follows no exec). */
function interpreter() {
  const path = execFileSync("sh", ["-c", "command -v prosody"], { encoding: "utf8" }).trim();
  const first = readFileSync(path, "utf8").split("\n", 1)[0];
  const words = first.replace(/^#!\s*/, "").split(/\s+/);
  return words[0].endsWith("/env") ? words.slice(1) : words;
}

/** The harness's `wrapper` for a Prosody counted by callgrind (dumps go to the server's own directory). */
export function callgrindWrapper() {
  return [
    "valgrind",
    "--tool=callgrind",
    "--callgrind-out-file=cg.out.%p",
    "--dump-instr=no",
    "--vgdb=yes",
    `--vgdb-prefix=${VGDB_PREFIX}`,
    ...interpreter(),
  ];
}

export function zero(server) {
  execFileSync("callgrind_control", [`--vgdb-prefix=${VGDB_PREFIX}`, "-z", String(server.pid)], {
    stdio: "ignore",
  });
}

/** The instructions (Ir) of the newest callgrind dump in `dir`. */
function lastDumpIr(dir, after) {
  const dumps = readdirSync(dir)
    .filter((f) => /^cg\.out\.\d+\.\d+$/.test(f))
    .map((f) => ({ f, n: Number(f.split(".").pop()) }))
    .filter((d) => d.n > after)
    .sort((a, b) => a.n - b.n);
  if (!dumps.length) return undefined;
  const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, dumps.at(-1).f), "utf8"));
  return m ? { ir: Number(m[1]), n: dumps.at(-1).n } : undefined;
}

let lastDump = 0;

/** Dumps the counters and returns the instructions since the last `zero`. */
export async function dump(server) {
  execFileSync("callgrind_control", [`--vgdb-prefix=${VGDB_PREFIX}`, "-d", String(server.pid)], {
    stdio: "ignore",
  });
  for (let i = 0; i < 300; i++) {
    const got = lastDumpIr(server.dir, lastDump);
    if (got) {
      lastDump = got.n;
      return got.ir;
    }
    await delay(100);
  }
  throw new Error("callgrind wrote no dump");
}
