export { CosyVoice } from "./client.ts";
export * from "./errors.ts";
export * from "./schemas.ts";
export { inspectPromptAudio, PROMPT_AUDIO_FORMATS } from "./inspect-audio.ts";
export type { InspectOptions, PromptAudioFormat, PromptAudioInspection, PromptAudioIssue, PromptAudioIssueCode } from "./inspect-audio.ts";
export type * from "./types.ts";
