export { startStandin, freePort, readRecord, waitForRecord } from "./standin.ts";
export type { StandinOptions, StandinHandle, RecordEntry } from "./standin.ts";
export { synthWav, parseWav } from "./wav.ts";
export type { SynthWavOptions, WavInfo } from "./wav.ts";
export { joinQueue, openQueueStream, cancelJob, uploadFile } from "./queue.ts";
export type { JoinResult, QueueMessage, QueueStream } from "./queue.ts";
export { startRedis } from "./redis.ts";
export type { RedisOptions, RedisHandle } from "./redis.ts";
