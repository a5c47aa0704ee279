// Errors of the XMPP test harness: one class per condition, each with a stable `code`.

export class HarnessError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A server binary or package is not installed and could not be installed automatically. */
export class MissingDependencyError extends HarnessError {
  readonly packages: string[];
  constructor(packages: string[], detail: string) {
    super(
      "CORDON_HARNESS_MISSING_DEPENDENCY",
      `missing system packages: ${packages.join(", ")} (${detail}); install them with test/harness/install-system-deps.sh as root, or apt-get install ${packages.join(" ")}`,
    );
    this.packages = packages;
  }
}

/** A server did not become ready in time, or exited while starting. Carries the log tail. */
export class ServerStartError extends HarnessError {
  readonly logTail: string;
  constructor(what: string, reason: string, logTail: string) {
    super("CORDON_HARNESS_START_FAILED", `${what} did not start: ${reason}\n--- log tail ---\n${logTail}`);
    this.logTail = logTail;
  }
}

/** A helper command (prosodyctl, ejabberdctl) failed. */
export class CommandFailedError extends HarnessError {
  readonly exitCode: number | null;
  readonly output: string;
  constructor(command: string, exitCode: number | null, output: string) {
    super(
      "CORDON_HARNESS_COMMAND_FAILED",
      `${command} failed (exit ${exitCode ?? "signal"}): ${output.trim()}`,
    );
    this.exitCode = exitCode;
    this.output = output;
  }
}

/** A value given to a config template would break its syntax (quotes, newlines...). */
export class InvalidConfigValueError extends HarnessError {
  constructor(name: string, value: string) {
    super(
      "CORDON_HARNESS_INVALID_CONFIG_VALUE",
      `config value ${name}=${JSON.stringify(value)} contains characters not allowed in a server config`,
    );
  }
}

/** A template placeholder or block had no value, or a template is malformed. */
export class TemplateError extends HarnessError {
  constructor(file: string, message: string) {
    super("CORDON_HARNESS_TEMPLATE", `${file}: ${message}`);
  }
}

/** Unknown server kind (for example in CORDON_E2E_SERVERS). */
export class UnknownServerKindError extends HarnessError {
  constructor(kind: string) {
    super(
      "CORDON_HARNESS_UNKNOWN_SERVER",
      `unknown XMPP server kind ${JSON.stringify(kind)}: expected "prosody" or "ejabberd"`,
    );
  }
}

/** The server was used after its final stop(). */
export class ServerStoppedError extends HarnessError {
  constructor(what: string) {
    super("CORDON_HARNESS_SERVER_STOPPED", `${what} was stopped for good; start a new one`);
  }
}

/** waitFor() saw no matching stanza in time. */
export class WaitTimeoutError extends HarnessError {
  constructor(message: string) {
    super("CORDON_HARNESS_WAIT_TIMEOUT", message);
  }
}

/** The client was stopped or went offline while something waited for a stanza. */
export class ClientStoppedError extends HarnessError {
  constructor(jid: string) {
    super("CORDON_HARNESS_CLIENT_STOPPED", `client ${jid} stopped while waiting for a stanza`);
  }
}

/** An IQ sent with TestClient.iq() got an error reply (RFC 6120 §8.3). Carries the reply. */
export class IqErrorResponse<E> extends HarnessError {
  readonly stanza: E;
  readonly condition: string | undefined;
  constructor(condition: string | undefined, stanza: E, text: string) {
    super("CORDON_HARNESS_IQ_ERROR", `iq error ${condition ?? "(no condition)"}: ${text}`);
    this.stanza = stanza;
    this.condition = condition;
  }
}

/** The client could not connect or authenticate. */
export class ClientConnectError extends HarnessError {
  constructor(jid: string, cause: unknown) {
    super(
      "CORDON_HARNESS_CLIENT_CONNECT",
      `client ${jid} could not connect: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/** A server kind asked for something only the other kind offers (e.g. evalErlang on Prosody). */
export class UnsupportedServerFeatureError extends HarnessError {
  constructor(kind: string, feature: string) {
    super("CORDON_HARNESS_UNSUPPORTED", `${feature} is not available on ${kind}`);
  }
}
