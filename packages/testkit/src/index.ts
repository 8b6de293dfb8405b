export { startStandin, freePort, readRecord } from "./standin.ts";
export type { StandinOptions, StandinHandle, RecordEntry } from "./standin.ts";
