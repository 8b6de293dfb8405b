export { CosyVoice } from "./client.ts";
export * from "./errors.ts";
export * from "./schemas.ts";
export type * from "./types.ts";
