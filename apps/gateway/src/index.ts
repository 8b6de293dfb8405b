export { createApp } from "./app.ts";
export { connectingBackend, gradioInfo, type CosyVoiceLike, type ConnectingBackendOptions } from "./backends/gradio/driver.ts";
export type { BackendChunk, BackendKind, BoxCallOptions, BoxInfo, Codec, DriverOptions, SynthesisBackend } from "./backends/port.ts";
export { backendAddress, parseBackendAddress, type BackendAddress } from "./backends/address.ts";
export { backendFor, detectKind } from "./backends/detect.ts";
export { DRIVERS, type Driver, type DriverFactory } from "./backends/drivers.ts";
export { BackendPool, backendPoolFor, type BackendPoolOptions, type BackendState, type BackendStatus, type BackendView, type Lease, type PoolMember, type PoolRequestOptions } from "./backends/pool/index.ts";
export { loadConfig, defaultConfig, ConfigError, GatewayConfigSchema, type GatewayConfig } from "./platform/config.ts";
export type { GatewayDeps, Clock } from "./context.ts";
export { buildOpenApi } from "./doors/openapi/document.ts";
export { PROBLEM_KINDS, PROBLEM_TYPE_PREFIX, HttpProblem, problemType, type ProblemBody, type ProblemCode } from "./doors/problems.ts";
export { Slots } from "./service/caps/slots.ts";
export { DiskAudioStore, type AudioStore, type AudioMeta } from "./platform/stores/audio-store.ts";
export { DiskVoiceStore, type VoiceStore, type SavedVoiceRecord } from "./platform/stores/voice-store.ts";
export { startGateway, serverTimeouts, type RunningGateway } from "./server.ts";
export { clientErrorHandler } from "./platform/http/client-error.ts";
export { RedisAudioStore, type RedisAudioStoreOptions } from "./platform/stores/redis-audio-store.ts";
export { RedisVoiceStore } from "./platform/stores/redis-voice-store.ts";
export { openRedisStores, type RedisStores, type RedisStoresOptions } from "./platform/stores/redis.ts";
export { openStores, type GatewayStores } from "./platform/stores/open.ts";
export { createSynthesisService, type SynthesisDeps, type SynthesisInput, type SynthesisOptions, type SynthesisService, type SynthesisStream, type StoredClip } from "./service/synthesis/service.ts";
export { planSynthesis, withText, type SynthesisPlan, type PlanDeps } from "./service/plan.ts";
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
} from "./service/errors.ts";
export { ANONYMOUS_OWNER, mayAccess, type Caller, type Owner } from "./service/owners.ts";
export { Encoders, ffmpegArgs, type EncodersOptions, type EncodeOptions, type EncoderTicket } from "./service/encode/encoders.ts";
export { EncodeError, EncodersBusyError } from "./service/encode/errors.ts";
export { AUDIO_FORMATS, FORMATS, type AudioFormat, type FormatSpec } from "./service/encode/formats.ts";
export { openAIRoutes } from "./doors/openai/router.ts";
export type { SpeechService, SpeechVoice, SpeechJob } from "./doors/openai/speech-service.ts";
export { Passthrough, type PassthroughOptions } from "./doors/passthrough/passthrough.ts";
export { parseRoutesFile, RoutesFileError, type CompiledRoute, type RoutesConfig, type RouteBackend, type FileIssue, type FileNote } from "./platform/routes-file/load.ts";
export { watchRoutesFile, type RoutesFileWatcher, type WatchRoutesOptions } from "./platform/routes-file/watch.ts";
export { RoutesFileSchema, RouteSchema, routesJsonSchema, type RoutesFileInput, type RouteInput } from "./platform/routes-file/schema.ts";
export { WriteBehindAudioStore, type WriteBehindOptions } from "./platform/stores/write-behind-audio-store.ts";
export { SynthesisCache, openCache, withCache, cacheKey, type CachedClip, type SynthesisFingerprint } from "./service/cache/index.ts";
export { createMetrics, type GatewayMetrics } from "./platform/metrics/index.ts";
export { startTracing, tracedFetch, traceLogFields, type Tracing } from "./platform/tracing/index.ts";
export { createJwtVerifier, type JwtVerifier, type Scope } from "./platform/auth/index.ts";
export { BackendBreaker, BreakerOpenError, isBoxFault } from "./backends/breaker/index.ts";
export { RedisSlots, type JobSlots } from "./service/caps/index.ts";
