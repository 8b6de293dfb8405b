/**
 * Names for the shapes of the gateway's REST API, taken from the generated `openapi.ts` (so
 * they follow `openapi.yaml` and cannot drift from it).
 */
import type { components, operations, paths } from "./generated/openapi.ts";

export type { components, operations, paths };

type Schemas = components["schemas"];

/** Body of `POST /synthesize`. */
export type SynthesizeRequest = Schemas["SynthesizeRequest"];
/** `201` of `POST /synthesize`: the stored clip. */
export type SynthesisCreated = Schemas["SynthesisCreated"];
/** A voice from `GET /voices`, `GET /voices/{id}` or `POST /voices`. */
export type Voice = Schemas["Voice"];
/** A voice consent (`POST /v1/audio/voice_consents`, OpenAI's shape). */
export type VoiceConsent = Schemas["VoiceConsent"];
/** `GET /voices`. */
export type VoiceList = Schemas["VoiceList"];
/** RFC 9457 problem details: the body of every error response. */
export type Problem = Schemas["Problem"];
/** `GET /readyz`. */
export type Ready = Schemas["Ready"];
/** A synthesis mode. */
export type Mode = SynthesizeRequest["mode"] & string;
/** The typed instruct controls (the object form of `instruct`). */
export type InstructControls = Exclude<NonNullable<SynthesizeRequest["instruct"]>, string>;
/** The multipart fields of `POST /voices`. */
export type CreateVoiceFields = operations["createVoice"]["requestBody"]["content"]["multipart/form-data"];
/** Body of `POST /jobs`. */
export type CreateJobRequest = Schemas["CreateJobRequest"];
/** `202` of `POST /jobs`. */
export type JobAccepted = Schemas["JobAccepted"];
/** A narration job (`GET /jobs/{id}`, SSE events, webhooks' `data`). */
export type Job = Schemas["Job"];
/** `GET /jobs`. */
export type JobList = Schemas["JobList"];
