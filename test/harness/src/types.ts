// Public types of the XMPP server harness.

export type ServerKind = "prosody" | "ejabberd";

/** An external component (XEP-0114) the server accepts. */
export interface ComponentDecl {
  domain: string;
  secret: string;
}

/** XEP-0355 delegation of an IQ namespace of the main domain to a component. */
export interface DelegationDecl {
  namespace: string;
  component: string;
}

/** The server's own (native) MUC service, for comparisons with Cordon's component MUC. */
export interface NativeMucDecl {
  /** Its domain, e.g. "conference.example.test". */
  domain: string;
  /** Messages kept per room for joiners (small by default: 10). */
  historyLength?: number;
}

/** Cordon's central check (deploy/prosody/cordon-guard.cfg.lua, deploy/ejabberd/cordon-guard.yml). */
export interface GuardDecl {
  /** The guard component's domain (declare it in `components` too). */
  component: string;
  /** Seconds the module waits for a decision before refusing with `wait` (default 2). */
  timeoutSeconds?: number;
  /** Seconds the module reuses a verdict the guard marked cacheable (default 2; 0: no verdict cache). */
  cacheSeconds?: number;
  /** Cordon's own components whose messages are not checked again (its MUC, its relay). */
  trusted?: string[];
  /** Trusted components that locate the recipient's sessions themselves (Cordon's MUC): their deliveries are not asked about. */
  inboundUnasked?: string[];
  /** Deliver unlabelled messages while Cordon cannot answer (the modules' opt-in option). */
  unlabelledWhenDown?: "deliver" | "refuse";
  /** Seconds between the module's reports to the guard (served from its cache, latency; default 5). */
  reportSeconds?: number;
  /** Ask the guard before each resource bind (the server access label; the modules' opt-in option). */
  access?: boolean;
}

export interface ServerOptions {
  /** Main virtual host; default "example.test". */
  domain?: string;
  /** External components (XEP-0114) the server accepts. */
  components?: ComponentDecl[];
  /** Accounts on the main domain, registered before the promise resolves. */
  users?: { username: string; password: string }[];
  /** XEP-0355 namespace delegations (docs/delegation.md §1). Only configured when given. */
  delegations?: DelegationDecl[];
  /**
   * Enables the server's native MUC (XEP-0045) on this domain: rooms are created unlocked on first
   * join by any local user, public, non-persistent, with a small history.
   */
  nativeMuc?: NativeMucDecl;
  /** More virtual hosts. */
  extraDomains?: string[];
  /** Loads Cordon's server module for the central check on the main domain, as an admin would. */
  guard?: GuardDecl;
  /** More server modules (Prosody module names, ejabberd `mod_x: {}` names), e.g. carbons, MAM, PEP. */
  extraModules?: string[];
  /**
   * ejabberd only: accept several connections of a component domain, balanced by `domain_balancing`
   * (docs/servers.md §2), e.g. `{ "rooms.example.test": "bare_destination" }`.
   */
  componentBalancing?: Record<
    string,
    "bare_destination" | "destination" | "source" | "bare_source" | "random"
  >;
  /**
   * Offer STARTTLS (RFC 6120 §5) to clients with a fresh self-signed certificate for the domains
   * (not required: clients may still authenticate in the clear). Default false.
   */
  starttls?: boolean;
  /** Fixed loopback ports instead of free ones (the quickstart prints them for people to use). */
  ports?: { c2s?: number; component?: number };
  /**
   * XEP-0206 BOSH on a free loopback HTTP port (`httpPort`, path /http-bind), so that tests can
   * reach a session over HTTP as a web client would: Prosody's mod_bosh, or ejabberd's mod_bosh
   * behind an ejabberd_http listener.
   */
  bosh?: boolean;
  /**
   * Prosody only: a command the server runs under (e.g. `["valgrind", "--tool=callgrind", ...]`
   * for bench/one-to-one-callgrind.mjs, which counts the server's instructions per message).
   */
  wrapper?: string[];
  /**
   * Prosody only: the Lua collector (Prosody's `gc` option). Default "generational", what
   * deploy/README.md ("Prosody: the Lua garbage collector") recommends on Lua 5.4: Prosody's own
   * default ("incremental", pause 105 %) costs ~2–3× the server CPU per stanza with 1,000 sessions
   * connected (issue 19). "incremental" is Prosody's default, kept for comparisons.
   */
  prosodyGc?: "generational" | "incremental";
  /** Readiness timeout per start attempt, default 30 s. */
  startTimeoutMs?: number;
}

export interface XmppServer {
  readonly kind: ServerKind;
  readonly domain: string;
  readonly host: "127.0.0.1";
  readonly c2sPort: number;
  /** XEP-0114 listener; only listening when components were declared. */
  readonly componentPort: number;
  /** With `bosh`: the HTTP listener of /http-bind; 0 otherwise. */
  readonly httpPort: number;
  /** Per-run temp dir with config, data and logs. */
  readonly dir: string;
  /** With `starttls`: the server's self-signed certificate (PEM), for clients to verify it. */
  readonly certificateFile: string | undefined;
  /** Process id of the running server (for CPU accounting in benchmarks); undefined when stopped. */
  readonly pid: number | undefined;
  /** Milliseconds the last (re)start took, from spawn to ready (excluding user registration). */
  readonly startupMs: number;
  /** Stops the process (idempotent) and removes the temp dir. */
  stop(): Promise<void>;
  /** Stops and starts again on the same ports, config and data (users kept). */
  restart(): Promise<void>;
  /** SIGKILL, for fault tests; bring it back with restart(). */
  kill(): Promise<void>;
  /** Last lines of the server logs, for diagnostics. */
  logTail(lines?: number): string;
  /** Registers an account on the main domain (or `domain`). */
  addUser(username: string, password: string, domain?: string): Promise<void>;
  /**
   * ejabberd only: evaluates Erlang expressions (ending with a full stop) on the running node, as
   * an operator would in `ejabberdctl debug` (e.g. `gen_mod:stop_module(<<"x.test">>, mod_x).`);
   * resolves with the value printed (~p).
   */
  evalErlang(expressions: string): Promise<string>;
}
