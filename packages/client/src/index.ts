export { createClient, unwrap } from "./client.ts";
export type { AudioInput, CallOptions, ClientOptions, CosyVoiceClient, SaveVoiceInput, SynthesisStream } from "./client.ts";
export { ApiConnectionError, ApiError, ApiUserAbortError, GatewayClientError, OPENAI_TYPE_PREFIX, PROBLEM_TYPE_PREFIX, apiError, fetchFailure } from "./errors.ts";
export type * from "./types.ts";
/** The audio formats the gateway serves, from `openapi.yaml` (so from the gateway's own list). */
export { audioFormats as AUDIO_FORMATS } from "./generated/openapi.ts";
