// Typed errors of the clearance store. Every condition has its own class and a stable `code`
// (every code is listed in docs/errors.md).
import { CordonError } from "@cordon/errors";

/** Base of every error the store throws at callers. */
export abstract class CordonStoreError extends CordonError {}

/** A JID or domain that is not a well-formed bare JID (RFC 7622 §3). */
export class InvalidJidError extends CordonStoreError {
  readonly input: string;
  constructor(input: string, reason: string) {
    super("CORDON_STORE_INVALID_JID", `invalid bare JID ${JSON.stringify(input)}: ${reason}`);
    this.input = input;
  }
}

/** A value handed to the store that it cannot hold (wrong shape, bad encoding, bad direction). */
export class InvalidValueError extends CordonStoreError {
  constructor(message: string) {
    super("CORDON_STORE_INVALID_VALUE", message);
  }
}

/** The backend (Redis) cannot be reached: the operation did not happen. */
export class StoreUnavailableError extends CordonStoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CORDON_STORE_UNAVAILABLE", message, options);
  }
}

/**
 * A clearance write ran on the Redis primary (it is in force there, and notified) but fewer replicas
 * than required confirmed it in time (durable-write.ts): a failover now may undo it. Check the
 * replicas, then repeat the change.
 */
export class NotDurableError extends CordonStoreError {
  readonly acked: number;
  readonly required: number;
  constructor(what: string, acked: number, required: number, waitError?: string) {
    super(
      "CORDON_STORE_NOT_DURABLE",
      `redis ${what}: applied on the primary but confirmed by ${acked} of ${required} replica(s) required` +
        (waitError !== undefined ? ` (WAIT failed: ${waitError})` : "") +
        "; a failover now may undo it — check the replicas, then repeat the change",
    );
    this.acked = acked;
    this.required = required;
  }
}

/**
 * A history entry for a room the store does not hold (deleted, made temporary, never stored): refused,
 * so an append that arrives after the room's deletion — from another process, or held on the way —
 * does not leave a history behind for whoever next creates a room of that JID.
 */
export class RoomNotStoredError extends CordonStoreError {
  readonly room: string;
  constructor(room: string) {
    super(
      "CORDON_STORE_ROOM_NOT_STORED",
      `history entry refused: room ${JSON.stringify(room)} is not stored (deleted, temporary or never stored)`,
    );
    this.room = room;
  }
}

/** A value read from the backend is corrupt (not what this store wrote). */
export class CorruptRecordError extends CordonStoreError {
  constructor(key: string, options?: { cause?: unknown }) {
    super("CORDON_STORE_CORRUPT_RECORD", `corrupt record at ${key}`, options);
  }
}

/**
 * Another live process renews the cluster lease of this instance name (RedisMembership): two
 * processes were given the same `components.muc.cluster.instance`.
 */
export class DuplicateInstanceError extends CordonStoreError {
  readonly instance: string;
  constructor(instance: string) {
    super(
      "CORDON_STORE_DUPLICATE_INSTANCE",
      `cluster instance ${JSON.stringify(instance)} is live in another process: each instance needs a name of its own`,
    );
    this.instance = instance;
  }
}

/** The store was closed. */
export class StoreClosedError extends CordonStoreError {
  constructor() {
    super("CORDON_STORE_CLOSED", "the store is closed");
  }
}

/** Directory (LDAP) configuration is incomplete or inconsistent. */
export class DirectoryConfigError extends CordonStoreError {
  constructor(message: string) {
    super("CORDON_STORE_DIRECTORY_CONFIG", message);
  }
}

/** The directory secret could not be read from its file or environment variable. */
export class SecretUnavailableError extends CordonStoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CORDON_STORE_SECRET_UNAVAILABLE", message, options);
  }
}
