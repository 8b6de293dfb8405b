export { cacheKey, PromptHashes, type SynthesisFingerprint } from "./key.ts";
export { SharedJobs, NobodyListeningError, type JoinedJob, type JobSpec } from "./shared-jobs.ts";
export { SynthesisCache, type CachedClip, type SynthesisCacheOptions } from "./synthesis-cache.ts";
export { withCache, type CachedServiceDeps } from "./cached-service.ts";
export { openCache } from "./open.ts";
