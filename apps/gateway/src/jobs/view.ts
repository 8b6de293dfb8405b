/** A job as the API shows it (`GET /jobs/{id}`, the list, webhooks). */
import type { JobRecord } from "./model.ts";

/** The public view of a job. */
export interface JobView {
  id: string;
  status: JobRecord["status"];
  url: string;
  segments: { done: number; total: number };
  characters: number;
  voice: string;
  format: JobRecord["request"]["format"];
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  audioUrl?: string;
  captionsUrl?: string;
  expiresAt?: string;
  error?: JobRecord["error"];
}

const iso = (ms: number | undefined) => (ms === undefined ? {} : { v: new Date(ms).toISOString() });

/**
 * @example res.json(jobView(record))
 */
export function jobView(j: JobRecord): JobView {
  const started = iso(j.startedAt).v;
  const finished = iso(j.finishedAt).v;
  const expires = iso(j.expiresAt).v;
  return {
    id: j.id,
    status: j.status,
    url: `/jobs/${j.id}`,
    segments: { done: j.done, total: j.segments.length },
    characters: j.segments.reduce((n, s) => n + s.text.length, 0),
    voice: j.request.voice,
    format: j.request.format,
    createdAt: new Date(j.createdAt).toISOString(),
    ...(started !== undefined ? { startedAt: started } : {}),
    ...(finished !== undefined ? { finishedAt: finished } : {}),
    ...(j.output ? { durationMs: Math.round(j.output.durationMs), audioUrl: `/audio/${j.output.audioId}`, captionsUrl: `/jobs/${j.id}/captions` } : {}),
    ...(expires !== undefined ? { expiresAt: expires } : {}),
    ...(j.error ? { error: j.error } : {}),
  };
}
