/**
 * Who owns a saved voice or a clip. An owner is an opaque string: today an API key's
 * fingerprint (`key:...`), later a JWT subject; when the API is open every caller is the one
 * anonymous owner. Records written before owners existed carry none and count as anonymous.
 */

/** An opaque owner id. */
export type Owner = string;

/** The owner of everything when no API keys are configured (and of records older than owners). */
export const ANONYMOUS_OWNER: Owner = "anonymous";

/** Who is calling: their owner id, and whether they may see every owner's voices and clips. */
export interface Caller {
  owner: Owner;
  /** An ADMIN_KEYS key: sees, uses and deletes every owner's voices and clips. @default false */
  admin?: boolean;
}

/**
 * True when the caller may see a record with this owner (a record without one is anonymous).
 * @example mayAccess({ owner: "key:abc" }, record.owner) // false for another key's voice
 */
export function mayAccess(caller: Caller, owner: Owner | undefined): boolean {
  return caller.admin === true || (owner ?? ANONYMOUS_OWNER) === caller.owner;
}
