/**
 * The synthesis cache's content key: a hash over everything that decides the audio, so two
 * requests share an entry exactly when the backend would make the same clip from them.
 */
import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";

/** Everything that decides a clip's audio. */
export interface SynthesisFingerprint {
  /** The backend's model family and UI variant (a different model makes different audio). */
  model: string;
  variant: string;
  mode: string;
  text: string;
  /** A built-in speaker's name. */
  speaker?: string | undefined;
  /** SHA-256 of a saved voice's prompt audio bytes (not its id: the same recording is the same voice). */
  promptAudioSha256?: string | undefined;
  promptText?: string | undefined;
  instruct?: unknown;
  /** The seed sent upstream (the SDK sends 0 when the request has none). */
  seed: number;
  /** @default 1 */
  speed?: number | undefined;
  /** What the caller gets: `wav` (a whole clip) or `aac` (a stream). */
  format: string;
}

/** JSON with object keys sorted at every level, so equal values hash equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The entry key: 22 base64url characters (132 bits of SHA-256), usable as a store id.
 * @example cacheKey({ model: "cosyvoice3", variant: "official", mode: "pretrained", text: "Hi.", speaker: "中文女", seed: 7, format: "wav" }) // "pX1..."
 */
export function cacheKey(f: SynthesisFingerprint): string {
  const parts = { ...f, speed: f.speed ?? 1, v: 1 };
  return createHash("sha256").update(canonical(parts)).digest("base64url").slice(0, 22);
}

/**
 * SHA-256 of a saved voice's prompt audio, remembered per voice id (a saved voice never changes:
 * a new recording is a new id), so a request does not hash megabytes each time.
 * @example const sha = promptHashes.of(voice.id, voice.audio);
 */
export class PromptHashes {
  private readonly known = new LRUCache<string, string>({ max: 10_000 });
  of(voiceId: string, audio: Uint8Array): string {
    let sha = this.known.get(voiceId);
    if (sha === undefined) {
      sha = createHash("sha256").update(audio).digest("hex");
      this.known.set(voiceId, sha);
    }
    return sha;
  }
}
