// Starts a throwaway OpenLDAP slapd on 127.0.0.1 with a free port and its own slapd.conf (-f),
// a test schema for Cordon users and an LDIF of users with clearances.
//
// Test schema (OIDs under 2.25.<uuid>, test-only):
//  - `clearance` is the X.501 clearance attribute, OID 2.5.4.55 (ITU-T X.501 §17.3.1 / RFC 5755 §4.4.6),
//    with a syntax substituted to "Supported Algorithm" so slapd accepts the `;binary` transfer option
//    and stores BER values.
//  - `jid` holds the user's bare JID; `cordonXmlClearance` an XML clearance as text;
//    `cordonCatalogLabel` the labels of the user's personal catalog (multi-valued, octet string).
//  - `cordonPerson` is an auxiliary object class carrying them, used beside inetOrgPerson.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeLoopbackPort, terminate, track, waitForPort } from "./process-tools.js";

const ARC = "2.25.128571339766841363558979786900353688171";

export const CORDON_TEST_SCHEMA = `
ldapsyntax ( ${ARC}.1.1 DESC 'X.501 Clearance, BER' X-SUBST '1.3.6.1.4.1.1466.115.121.1.49' )
attributetype ( 2.5.4.55 NAME 'clearance' DESC 'X.501 clearance attribute, use ;binary' SYNTAX ${ARC}.1.1 )
attributetype ( ${ARC}.2.1 NAME 'jid' DESC 'bare JID' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( ${ARC}.2.2 NAME 'cordonXmlClearance' DESC 'XML clearance' EQUALITY caseExactMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
attributetype ( ${ARC}.2.3 NAME 'cordonCatalogLabel' DESC 'personal catalog label (XML or BER)' SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 )
objectclass ( ${ARC}.3.1 NAME 'cordonPerson' DESC 'Cordon clearance holder' AUXILIARY MAY ( jid $ clearance $ cordonXmlClearance $ cordonCatalogLabel ) )
`;

export interface SlapdUser {
  uid: string;
  jid?: string;
  /** BER clearances, stored as `clearance;binary`. */
  clearanceBer?: Buffer[];
  /** XML clearances, stored in `cordonXmlClearance`. */
  clearanceXml?: string[];
  /** Personal catalog labels, stored in `cordonCatalogLabel`. */
  catalogLabels?: Array<string | Buffer>;
}

export interface SlapdOptions {
  /** Suffix (default dc=example,dc=mil). Users live under ou=people,SUFFIX. */
  suffix?: string;
  users?: SlapdUser[];
  /** Extra LDIF appended to the generated one. */
  ldif?: string;
  startTimeoutMs?: number;
}

export interface SlapdInstance {
  /** ldap://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  readonly suffix: string;
  /** Where users live: ou=people,SUFFIX. */
  readonly baseDn: string;
  /** A read-only service account (what a Cordon component binds as). */
  readonly bindDn: string;
  readonly bindPassword: string;
  /** The rootdn, allowed to write (for tests that change the directory). */
  readonly adminDn: string;
  readonly adminPassword: string;
  /** DN of a user entry by uid. */
  userDn(uid: string): string;
  /** Terminates slapd (SIGTERM) and removes its temp dir. Final. */
  stop(): Promise<void>;
  /** Stops slapd (SIGKILL) but keeps its database and port for restart(). */
  kill(): Promise<void>;
  /** Starts slapd again on the same port with the same database. */
  restart(): Promise<void>;
}

function b64(v: string | Buffer): string {
  return (typeof v === "string" ? Buffer.from(v, "utf8") : v).toString("base64");
}

function userLdif(baseDn: string, u: SlapdUser): string {
  const lines = [
    `dn: uid=${u.uid},${baseDn}`,
    "objectClass: inetOrgPerson",
    "objectClass: cordonPerson",
    `uid: ${u.uid}`,
    `cn: ${u.uid}`,
    `sn: ${u.uid}`,
  ];
  if (u.jid !== undefined) lines.push(`jid:: ${b64(u.jid)}`);
  for (const c of u.clearanceBer ?? []) lines.push(`clearance;binary:: ${b64(c)}`);
  for (const c of u.clearanceXml ?? []) lines.push(`cordonXmlClearance:: ${b64(c)}`);
  for (const c of u.catalogLabels ?? []) lines.push(`cordonCatalogLabel:: ${b64(c)}`);
  return lines.join("\n") + "\n";
}

export async function startSlapd(opts: SlapdOptions = {}): Promise<SlapdInstance> {
  const suffix = opts.suffix ?? "dc=example,dc=mil";
  const dc = /^dc=([^,]+)/.exec(suffix)?.[1] ?? "example";
  const baseDn = `ou=people,${suffix}`;
  const bindDn = `cn=cordon,${suffix}`;
  const bindPassword = "cordon-reader-secret";
  const adminDn = `cn=admin,${suffix}`;
  const adminPassword = "cordon-admin-secret";
  const timeout = opts.startTimeoutMs ?? 15_000;

  const dir = mkdtempSync(join(tmpdir(), "cordon-slapd-"));
  const dbDir = join(dir, "db");
  mkdirSync(dbDir);
  writeFileSync(join(dir, "cordon.schema"), CORDON_TEST_SCHEMA);
  const conf = join(dir, "slapd.conf");
  writeFileSync(
    conf,
    [
      "include /etc/ldap/schema/core.schema",
      "include /etc/ldap/schema/cosine.schema",
      "include /etc/ldap/schema/inetorgperson.schema",
      `include ${join(dir, "cordon.schema")}`,
      `pidfile ${join(dir, "slapd.pid")}`,
      `argsfile ${join(dir, "slapd.args")}`,
      "modulepath /usr/lib/ldap",
      "moduleload back_mdb",
      "database mdb",
      `suffix "${suffix}"`,
      `rootdn "${adminDn}"`,
      `rootpw ${adminPassword}`,
      `directory ${dbDir}`,
      "maxsize 10485760",
      "access to attrs=userPassword by anonymous auth by * none",
      `access to * by dn.exact="${bindDn}" read by * none`,
      "",
    ].join("\n"),
  );
  const ldif = [
    `dn: ${suffix}\nobjectClass: dcObject\nobjectClass: organization\no: ${dc}\ndc: ${dc}\n`,
    `dn: ${baseDn}\nobjectClass: organizationalUnit\nou: people\n`,
    `dn: ${bindDn}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: cordon\nuserPassword: ${bindPassword}\n`,
    ...(opts.users ?? []).map((u) => userLdif(baseDn, u)),
    opts.ldif ?? "",
  ].join("\n");
  const ldifPath = join(dir, "data.ldif");
  writeFileSync(ldifPath, ldif);
  const add = spawnSync("/usr/sbin/slapadd", ["-q", "-f", conf, "-l", ldifPath], { encoding: "utf8" });
  if (add.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`harness: slapadd failed: ${add.stderr}`);
  }

  const port = await freeLoopbackPort();
  const url = `ldap://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    // -d 0: stay in the foreground (so we own the process) with no debug output.
    const c = spawn("/usr/sbin/slapd", ["-f", conf, "-h", `${url}/`, "-d", "0"], { stdio: "ignore" });
    track(c);
    child = c;
    await waitForPort(port, timeout, c);
  };
  await launch();

  return {
    url,
    port,
    suffix,
    baseDn,
    bindDn,
    bindPassword,
    adminDn,
    adminPassword,
    userDn: (uid) => `uid=${uid},${baseDn}`,
    async stop() {
      if (child !== undefined) await terminate(child, "SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      if (child !== undefined) await terminate(child, "SIGKILL");
    },
    async restart() {
      if (child !== undefined) await terminate(child, "SIGKILL");
      await launch();
    },
  };
}
