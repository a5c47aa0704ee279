// Starts a throwaway OpenLDAP slapd on 127.0.0.1 with a free port, configured as an admin would:
// Cordon's schema from deploy/ldap (cordon.schema included from a slapd.conf, or cordon.ldif added
// to a cn=config directory), then an LDIF of users with clearances (generated from `users`, and
// files such as deploy/ldap/example-users.ldif). The schema (OIDs in deploy/ldap/cordon.schema):
// `clearance` (X.501, 2.5.4.55, BER, read as `clearance;binary`), `jid`, `cordonXmlClearance`,
// `cordonCatalogLabel`, and the auxiliary class `cordonPerson` beside inetOrgPerson.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeLoopbackPort, terminate, track, waitForPort } from "./process-tools.js";
import { deployDir } from "./templates.js";

/** The schema files an admin installs (deploy/ldap). */
export function ldapDeployFile(name: "cordon.schema" | "cordon.ldif" | "example-users.ldif"): string {
  return join(deployDir(), "ldap", name);
}

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
  /** LDIF files loaded after it, as an admin would (e.g. ldapDeployFile("example-users.ldif")). */
  ldifFiles?: string[];
  /** How the schema is installed: `include` in a slapd.conf (default) or the cn=config LDIF. */
  config?: "slapd.conf" | "cn=config";
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
  const setup = { dir, dbDir, suffix, adminDn, adminPassword, bindDn };
  const configArgs = opts.config === "cn=config" ? cnConfig(setup) : slapdConf(setup);
  const ldif = [
    `dn: ${suffix}\nobjectClass: dcObject\nobjectClass: organization\no: ${dc}\ndc: ${dc}\n`,
    `dn: ${baseDn}\nobjectClass: organizationalUnit\nou: people\n`,
    `dn: ${bindDn}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: cordon\nuserPassword: ${bindPassword}\n`,
    ...(opts.users ?? []).map((u) => userLdif(baseDn, u)),
    opts.ldif ?? "",
    ...(opts.ldifFiles ?? []).map((file) => readFileSync(file, "utf8")),
  ].join("\n");
  const ldifPath = join(dir, "data.ldif");
  writeFileSync(ldifPath, ldif);
  const add = spawnSync("/usr/sbin/slapadd", ["-q", ...configArgs, "-b", suffix, "-l", ldifPath], {
    encoding: "utf8",
  });
  if (add.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`harness: slapadd failed: ${add.stderr}`);
  }

  const port = await freeLoopbackPort();
  const url = `ldap://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    // -d 0: stay in the foreground (so we own the process) with no debug output.
    const c = spawn("/usr/sbin/slapd", [...configArgs, "-h", `${url}/`, "-d", "0"], { stdio: "ignore" });
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

interface Setup {
  dir: string;
  dbDir: string;
  suffix: string;
  adminDn: string;
  adminPassword: string;
  bindDn: string;
}

/** The read-only service account reads everything but passwords; nobody else reads anything. */
const access = (bindDn: string) => [
  "to attrs=userPassword by anonymous auth by * none",
  `to * by dn.exact="${bindDn}" read by * none`,
];

/** slapd.conf form: `include` of deploy/ldap/cordon.schema. Returns slapd's config arguments. */
function slapdConf(s: Setup): string[] {
  const conf = join(s.dir, "slapd.conf");
  writeFileSync(
    conf,
    [
      "include /etc/ldap/schema/core.schema",
      "include /etc/ldap/schema/cosine.schema",
      "include /etc/ldap/schema/inetorgperson.schema",
      `include ${ldapDeployFile("cordon.schema")}`,
      `pidfile ${join(s.dir, "slapd.pid")}`,
      `argsfile ${join(s.dir, "slapd.args")}`,
      "modulepath /usr/lib/ldap",
      "moduleload back_mdb",
      "database mdb",
      `suffix "${s.suffix}"`,
      `rootdn "${s.adminDn}"`,
      `rootpw ${s.adminPassword}`,
      `directory ${s.dbDir}`,
      "maxsize 10485760",
      ...access(s.bindDn).map((a) => `access ${a}`),
      "",
    ].join("\n"),
  );
  return ["-f", conf];
}

/** cn=config form: deploy/ldap/cordon.ldif added with slapadd -n0, as on a Debian slapd. */
function cnConfig(s: Setup): string[] {
  const configDir = join(s.dir, "slapd.d");
  mkdirSync(configDir);
  const base = [
    "dn: cn=config\nobjectClass: olcGlobal\ncn: config",
    `olcPidFile: ${join(s.dir, "slapd.pid")}\nolcArgsFile: ${join(s.dir, "slapd.args")}\n`,
    "dn: cn=module{0},cn=config\nobjectClass: olcModuleList\ncn: module{0}\nolcModulePath: /usr/lib/ldap\nolcModuleLoad: back_mdb\n",
    "dn: cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: schema\n",
  ].join("\n");
  const database = [
    "dn: olcDatabase={1}mdb,cn=config",
    "objectClass: olcDatabaseConfig",
    "objectClass: olcMdbConfig",
    "olcDatabase: {1}mdb",
    `olcDbDirectory: ${s.dbDir}`,
    `olcSuffix: ${s.suffix}`,
    `olcRootDN: ${s.adminDn}`,
    `olcRootPW: ${s.adminPassword}`,
    "olcDbMaxSize: 10485760",
    ...access(s.bindDn).map((a, i) => `olcAccess: {${i}}${a}`),
    "",
  ].join("\n");
  const ldif = [
    base,
    ...["core", "cosine", "inetorgperson"].map((n) => readFileSync(`/etc/ldap/schema/${n}.ldif`, "utf8")),
    readFileSync(ldapDeployFile("cordon.ldif"), "utf8"),
    database,
  ].join("\n");
  const file = join(s.dir, "config.ldif");
  writeFileSync(file, ldif);
  const add = spawnSync("/usr/sbin/slapadd", ["-q", "-n0", "-F", configDir, "-l", file], {
    encoding: "utf8",
  });
  if (add.status !== 0) throw new Error(`harness: slapadd of cn=config failed: ${add.stderr}`);
  return ["-F", configDir];
}
