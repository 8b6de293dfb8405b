/**
 * Where narration jobs live: the job record, and each finished segment (its description and its
 * PCM) written the moment it finishes, so a gateway killed mid-job resumes from there and never
 * synthesizes a finished segment again. {@link DiskJobStore} is the embedded default,
 * `RedisJobStore` the shared one.
 */
import type { JobRecord, SegmentDone } from "./model.ts";

/** A page of a caller's jobs, newest first. */
export interface JobPage {
  jobs: JobRecord[];
  /** Pass as `cursor` for the next page; absent on the last. */
  next?: string;
}

/** Changes a writer may make to a job. */
export type JobPatch = Partial<Omit<JobRecord, "id" | "owner" | "createdAt" | "segments" | "request">>;

/** What every job store does. */
export interface JobStore {
  create(job: JobRecord): Promise<void>;
  get(id: string): Promise<JobRecord | undefined>;
  /**
   * Applies `patch` unless the job is gone or (with `unlessFinished`) already finished, e.g.
   * canceled while a segment ran; answers the record as it now is.
   */
  update(id: string, patch: JobPatch, opts?: { unlessFinished?: boolean }): Promise<JobRecord | undefined>;
  /** One owner's jobs (every owner's for `undefined`), newest first. */
  list(owner: string | undefined, opts: { limit: number; cursor?: string }): Promise<JobPage>;
  /** Persists a finished segment (its PCM, then its description) and counts it in `done`. */
  putSegment(id: string, segment: SegmentDone, pcm: Uint8Array): Promise<void>;
  /** The finished segments' descriptions, by index. */
  segments(id: string): Promise<SegmentDone[]>;
  readSegmentPcm(id: string, index: number): Promise<Uint8Array | undefined>;
  /** Deletes the job and everything of it; false when there was none. */
  delete(id: string): Promise<boolean>;
  /** Ids of jobs queued or running (what a restarted embedded gateway takes up again). */
  unfinished(): Promise<string[]>;
  /**
   * Counts `n` segments against an owner's quota (`limit` per `windowMs`); answers how long
   * until room when it is used up (and counts nothing then).
   */
  spendSegments(owner: string, n: number, limit: number, windowMs: number): Promise<{ ok: true } | { ok: false; retryAfterMs: number }>;
  close(): Promise<void>;
}
