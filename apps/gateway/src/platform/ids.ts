import { randomBytes } from "node:crypto";

/** Saved voice ids: `v_` + 22 base64url characters (128 random bits). */
export const SAVED_VOICE_ID = /^v_[A-Za-z0-9_-]{22}$/;
/** Audio ids: `a_` + 22 base64url characters (128 random bits); unguessable, so usable as a capability. */
export const AUDIO_ID = /^a_[A-Za-z0-9_-]{22}$/;
/** Built-in speakers: `builtin:` + the speaker's name as the UI lists it. */
export const BUILTIN_PREFIX = "builtin:";

/**
 * A fresh random id with the given prefix. Ids never come from user input, so they are safe as
 * file names.
 * @example newId("v_") // "v_3q2-7wEAAAB4AAAAAAAAAA"
 */
export function newId(prefix: "v_" | "a_"): string {
  return prefix + randomBytes(16).toString("base64url");
}
