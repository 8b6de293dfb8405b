export { createApp } from "./app.ts";
export { connectingBackend, type SynthesisBackend, type CosyVoiceLike, type ConnectingBackendOptions } from "./backend.ts";
export { BackendPool, backendPoolFor, type BackendPoolOptions, type BackendState, type BackendStatus, type BackendView, type Lease, type PoolMember, type PoolRequestOptions } from "./pool.ts";
export { loadConfig, defaultConfig, ConfigError, GatewayConfigSchema, type GatewayConfig } from "./config.ts";
export type { GatewayDeps, Clock } from "./context.ts";
export { buildOpenApi } from "./openapi.ts";
export { PROBLEM_KINDS, PROBLEM_TYPE_PREFIX, HttpProblem, problemType, type ProblemBody, type ProblemCode } from "./problems.ts";
export { Slots } from "./slots.ts";
export { DiskAudioStore, type AudioStore, type AudioMeta } from "./stores/audio-store.ts";
export { DiskVoiceStore, type VoiceStore, type SavedVoiceRecord } from "./stores/voice-store.ts";
export { startGateway, serverTimeouts, type RunningGateway } from "./server.ts";
export { clientErrorHandler } from "./client-error.ts";
export { RedisAudioStore, type RedisAudioStoreOptions } from "./stores/redis-audio-store.ts";
export { RedisVoiceStore } from "./stores/redis-voice-store.ts";
export { openRedisStores, type RedisStores, type RedisStoresOptions } from "./stores/redis.ts";
export { openStores, type GatewayStores } from "./stores/open.ts";
export { createSynthesisService, type SynthesisDeps, type SynthesisInput, type SynthesisOptions, type SynthesisService, type SynthesisStream, type StoredClip } from "./synthesis/service.ts";
export {
  GatewayError,
  CapacityError,
  StoreUnavailableError,
  VoiceNotFoundError,
  VoiceModeMismatchError,
  VoiceReadOnlyError,
  SynthesisInputError,
  DeadlineExceededError,
  ShuttingDownError,
  CallerGoneError,
  NoAudioError,
  type GatewayErrorCode,
  type InputIssue,
} from "./errors.ts";
export { ANONYMOUS_OWNER, mayAccess, type Caller, type Owner } from "./owners.ts";
export { Passthrough, type PassthroughOptions } from "./passthrough/passthrough.ts";
export { parseRoutesFile, RoutesFileError, type CompiledRoute, type RoutesConfig, type RouteBackend, type FileIssue, type FileNote } from "./routes-file/load.ts";
export { watchRoutesFile, type RoutesFileWatcher, type WatchRoutesOptions } from "./routes-file/watch.ts";
export { RoutesFileSchema, RouteSchema, routesJsonSchema, type RoutesFileInput, type RouteInput } from "./routes-file/schema.ts";
export { WriteBehindAudioStore, type WriteBehindOptions } from "./stores/write-behind-audio-store.ts";
export { SynthesisCache, openCache, withCache, cacheKey, type CachedClip, type SynthesisFingerprint } from "./cache/index.ts";
export { createMetrics, type GatewayMetrics } from "./metrics/index.ts";
export { startTracing, tracedFetch, traceLogFields, type Tracing } from "./tracing/index.ts";
export { createJwtVerifier, type JwtVerifier, type Scope } from "./auth/index.ts";
export { BackendBreaker, BreakerOpenError, isBoxFault } from "./breaker/index.ts";
export { RedisSlots, type JobSlots } from "./caps/index.ts";
