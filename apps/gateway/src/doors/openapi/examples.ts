/**
 * The examples of the OpenAPI document, in one place, typed by the zod schemas they illustrate
 * (a test parses each with its schema). Request examples succeed when sent as they are against
 * the embedded default (`npm start`: the cv3-en UI with CosyVoice3) once the placeholder ids are
 * replaced: {@link PLACEHOLDER} names them and the descriptions say so.
 */
import type { z } from "zod";
import type { Capabilities } from "../../service/capabilities.ts";
import { capabilitiesOf } from "../../service/capabilities.ts";
import { missingFile } from "../../platform/http/issues.ts";
import { PROBLEM_KINDS, problemType, type ProblemCode } from "../problems.ts";
import {
  HealthSchema,
  ReadySchema,
  SynthesizeBodySchema,
  zodErrors,
  type CreateVoiceFieldsSchema,
  type SynthesisCreated,
  type Voice,
} from "../rest/schemas.ts";

/** Ids in the examples that the reader replaces with their own. */
export const PLACEHOLDER = {
  voice: "v_REPLACE_WITH_YOUR_VOICE_ID",
  audio: "a_REPLACE_WITH_YOUR_AUDIO_ID",
  consent: "cons_REPLACE_WITH_YOUR_CONSENT_ID",
  job: "j_REPLACE_WITH_YOUR_JOB_ID",
} as const;

const SAMPLE = { voice: "v_3q2-7wEAAAB4AAAAAAAAAA", audio: "a_Yx9kT2mQvL0cR8nWbE4sJg" };
const WHEN = "2026-12-01T09:30:00.000Z";

type SynthesizeInput = z.input<ReturnType<typeof SynthesizeBodySchema>>;

/** How to use the placeholders, for the operations' descriptions. */
export const REPLACE_VOICE = `Replace \`${PLACEHOLDER.voice}\` with the \`id\` that POST /voices answered (or one from GET /voices).`;
export const REPLACE_AUDIO = `Replace \`${PLACEHOLDER.audio}\` with the \`id\` that POST /synthesize answered.`;

/** Request bodies of `POST /synthesize`, one per mode the embedded default has; the first is Swagger UI's default. */
export const SYNTHESIZE_EXAMPLES: Record<string, { summary: string; value: SynthesizeInput }> = {
  clone: {
    summary: "Clone (the default for a voice saved with promptText)",
    value: { text: "Hello! This is my cloned voice speaking.", voice: PLACEHOLDER.voice, seed: 42 },
  },
  instructControls: {
    summary: "Instruct with typed controls (cv3-en UI)",
    value: { text: "今天天气真好，我们去公园散步吧。", voice: PLACEHOLDER.voice, instruct: { dialect: "sichuan", emotion: "happy" } },
  },
  instructText: {
    summary: "Instruct with free text (cv3-en UI)",
    value: { text: "Take a deep breath and relax.", voice: PLACEHOLDER.voice, instruct: "Speak slowly and softly." },
  },
  crossLingual: {
    summary: "Cross-lingual: the voice speaks another language",
    value: { text: "<|en|>This voice now speaks English.", voice: PLACEHOLDER.voice, mode: "crossLingual", speed: 1.1 },
  },
};

/** Text fields of `POST /voices` (the `audio` file is the reader's own). */
export const CREATE_VOICE_EXAMPLE: z.input<typeof CreateVoiceFieldsSchema> = {
  name: "Ann",
  promptText: "Hello, this is my voice.",
};

export const VOICE_EXAMPLE: Voice = {
  id: SAMPLE.voice,
  name: "Ann",
  kind: "cloned",
  promptText: "Hello, this is my voice.",
  createdAt: WHEN,
  audio: { mimeType: "audio/wav", sampleRate: 24_000, durationMs: 3_000, bytes: 144_044 },
};

export const VOICE_LIST_EXAMPLE = { voices: [VOICE_EXAMPLE] };

export const SYNTHESIS_CREATED_EXAMPLE: SynthesisCreated = {
  id: SAMPLE.audio,
  url: `/audio/${SAMPLE.audio}`,
  mimeType: "audio/wav",
  bytes: 110_294,
  sampleRate: 24_000,
  durationMs: 2_297,
  chunks: 2,
  voice: SAMPLE.voice,
  mode: "clone",
  expiresAt: "2026-12-02T09:30:00.000Z",
};

export const HEALTH_EXAMPLE: z.output<typeof HealthSchema> = { status: "ok" };

export const READY_EXAMPLE: z.output<typeof ReadySchema> = {
  status: "ready",
  backend: { variant: "cv3-en", model: "cosyvoice3", gradioVersion: "5.4.0", sampleRate: 24_000, modes: ["clone", "crossLingual", "instruct"], speakers: 0 },
  backends: [
    { name: "backend-1", kind: "gradio", doors: ["rest", "v1", "passthrough"], state: "up", running: 0, waiting: 0, checkedAt: WHEN, breaker: "closed" },
    { name: "asr", kind: "asr", doors: ["asr", "passthrough"], state: "down", running: 0, waiting: 0, checkedAt: WHEN, error: "asr-unavailable", title: "The speech-recognition service is unreachable", breaker: "closed" },
  ],
};

export const CAPABILITIES_EXAMPLE: Capabilities = capabilitiesOf(
  [{ variant: "cv3-en", model: "cosyvoice3", gradioVersion: "5.4.0", modes: ["clone", "crossLingual", "instruct"], speakers: [] }],
  { maxTextChars: 2000 },
);

/** Field errors as the gateway really writes them, for the 400 examples. */
function realErrors(body: unknown): { pointer: string; detail: string; code: string }[] {
  const schema = SynthesizeBodySchema();
  const parsed = schema.safeParse(body);
  return parsed.success ? [] : zodErrors(parsed.error, { input: body, schema });
}

/** A problem body of a kind, as the gateway sends it, for a response example. */
export function problemExample(code: ProblemCode, instance: string): Record<string, unknown> {
  const kind = PROBLEM_KINDS[code];
  const body: Record<string, unknown> = { type: problemType(code), title: kind.title, status: kind.status };
  if (code === "invalid_request" && instance === "/synthesize") {
    const errors = realErrors({ text: "Hello.", voice: PLACEHOLDER.voice, instruct: { emotion: "excited" } });
    body["detail"] = errors[0]?.detail;
    body["errors"] = errors;
  } else if (code === "invalid_request" && instance === "/voices") {
    const error = missingFile("audio", { audio: "prompt.wav" });
    body["detail"] = error.detail;
    body["errors"] = [error];
  } else {
    body["detail"] = kind.when.charAt(0).toUpperCase() + kind.when.slice(1);
  }
  body["instance"] = instance;
  body["requestId"] = "5f0c6f4e-9a51-4c2e-8d0b-2b7f3f6a9c10";
  if (kind.status === 429 || kind.status === 503) body["retryAfterSeconds"] = kind.status === 429 ? 42 : 1;
  return body;
}
