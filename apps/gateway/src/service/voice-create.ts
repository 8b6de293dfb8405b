/**
 * Saving a voice, the same for every door (REST `POST /voices`, OpenAI's `POST /v1/audio/voices`):
 * the consent rule of the door, a transcript from the ASR box when the client sent none, then
 * the store. A failed transcription never fails the voice: it is saved without a transcript
 * (usable for cross-lingual and instruct, not 3-second cloning), and the answer and the log say so.
 */
import type { Logger } from "pino";
import type { AsrClient } from "../backends/asr/client.ts";
import { AsrError } from "../backends/asr/errors.ts";
import type { GatewayConfig } from "../platform/config.ts";
import { CONSENT_ID } from "../platform/ids.ts";
import { mayAccess, type Caller } from "./owners.ts";
import { ConsentError } from "./errors.ts";
import type { SniffedAudio } from "./sniff-audio.ts";
import type { ConsentStore } from "../platform/stores/consent-store.ts";
import type { SavedVoiceRecord, VoiceStore } from "../platform/stores/voice-store.ts";

/** The door a voice arrives through: each has its own default consent rule. */
export type VoiceDoor = "rest" | "v1";

/** What {@link saveVoice} needs. */
export interface SaveVoiceDeps {
  config: Pick<GatewayConfig, "voiceConsent">;
  voices: VoiceStore;
  consents: ConsentStore;
  asr?: AsrClient | undefined;
  logger: Logger;
}

/** A voice to save. */
export interface VoiceToSave {
  caller: Caller;
  door: VoiceDoor;
  name: string;
  promptText?: string | undefined;
  /** A consent id, or (where consent is optional) any statement of consent. */
  consent?: string | undefined;
  upload: SniffedAudio;
  requestId?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** The saved voice, and why it has no transcript when the ASR failed. */
export interface SavedVoice {
  record: SavedVoiceRecord;
  /** Set when the ASR server failed: the voice is usable for cross-lingual and instruct only. */
  warning?: string;
}

/**
 * Whether a door requires a consent: VOICE_CONSENT when set, else OpenAI's rule on `/v1`
 * (required) and the REST API's as it was (optional).
 * @example consentRequired({ voiceConsent: undefined }, "v1") // true
 */
export function consentRequired(config: Pick<GatewayConfig, "voiceConsent">, door: VoiceDoor): boolean {
  return (config.voiceConsent ?? (door === "v1" ? "required" : "optional")) === "required";
}

/**
 * Checks the consent a voice is created under.
 * @returns the consent id to store with the voice, or undefined (none, or a free statement)
 * @throws ConsentError (400 naming `consent`)
 */
async function checkConsent(deps: SaveVoiceDeps, v: VoiceToSave): Promise<string | undefined> {
  const required = consentRequired(deps.config, v.door);
  if (v.consent === undefined) {
    if (required) throw new ConsentError("consent is required: the id of the speaker's consent recording (POST /v1/audio/voice_consents answers it, cons_...)", "consent_required");
    return undefined;
  }
  // Where consent is optional, a free statement ("yes, recorded on 2026-12-01") is kept in the log only.
  if (!required && !v.consent.startsWith("cons_")) {
    deps.logger.info({ requestId: v.requestId, consent: v.consent.slice(0, 200) }, "voice created with a consent statement");
    return undefined;
  }
  const record = CONSENT_ID.test(v.consent) ? await deps.consents.get(v.consent) : undefined;
  if (!record || !mayAccess(v.caller, record.owner)) {
    throw new ConsentError(
      `consent ${JSON.stringify(v.consent.slice(0, 60))} is not one of your voice consents: record one with POST /v1/audio/voice_consents and send its id (cons_...)`,
      "consent_not_found",
    );
  }
  return record.id;
}

/**
 * Checks the consent, transcribes when needed, saves.
 * @throws ConsentError for a missing or unknown consent; a store error; never an ASR error
 * @example const { record, warning } = await saveVoice(deps, { caller, door: "v1", name: "Ann", consent: "cons_...", upload });
 */
export async function saveVoice(deps: SaveVoiceDeps, v: VoiceToSave): Promise<SavedVoice> {
  const consent = await checkConsent(deps, v);
  let promptText = v.promptText;
  let promptTextSource: "client" | "asr" | undefined = promptText !== undefined ? "client" : undefined;
  let warning: string | undefined;
  if (promptText === undefined && deps.asr) {
    try {
      const heard = await deps.asr.transcribe({ data: v.upload.data, mimeType: v.upload.mimeType, ext: v.upload.ext }, v.signal ? { signal: v.signal } : {});
      // The UIs take at most 500 characters of transcript; a 30 s prompt is well under that.
      promptText = heard.text.slice(0, 500);
      promptTextSource = "asr";
    } catch (err) {
      if (!(err instanceof AsrError)) throw err;
      warning = `saved without a transcript (${err.message}): the voice works for cross-lingual and instruct, not 3-second cloning; send promptText (prompt_text on /v1) to enable it`;
      deps.logger.warn({ requestId: v.requestId, reason: err.reason, err: err.message }, "voice saved without a transcript: the ASR failed; usable for cross-lingual only");
    }
  }
  const record = await deps.voices.create({
    owner: v.caller.owner,
    name: v.name,
    ...(promptText !== undefined ? { promptText } : {}),
    ...(promptTextSource !== undefined ? { promptTextSource } : {}),
    ...(consent !== undefined ? { consent } : {}),
    audio: { mimeType: v.upload.mimeType, ext: v.upload.ext, bytes: v.upload.data.byteLength, sampleRate: v.upload.sampleRate, durationMs: v.upload.durationMs },
    data: v.upload.data,
  });
  if (promptTextSource === "asr") deps.logger.info({ requestId: v.requestId, voiceId: record.id, promptText }, "voice transcribed by the ASR server");
  return { record, ...(warning !== undefined ? { warning } : {}) };
}
