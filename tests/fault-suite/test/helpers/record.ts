/**
 * Reading the stand-in's record: which jobs were called, how each ended, and which chunks it
 * made after it was cancelled.
 */
import { readRecord, waitForRecord, type RecordEntry } from "@cosyvoice3/testkit";

/** How a job can end in the record. */
export const END_EVENTS = ["done", "error", "cancelled"] as const;

/** Job ids of the entries with this event. */
export const jobsWith = (rec: RecordEntry[], event: string): string[] =>
  rec.filter((e) => e.event === event).map((e) => String(e["job"]));

/** Job ids that were called and have no end event yet. */
export const unfinishedJobs = (rec: RecordEntry[]): string[] => {
  const ended = new Set(rec.filter((e) => (END_EVENTS as readonly string[]).includes(e.event)).map((e) => String(e["job"])));
  return jobsWith(rec, "call").filter((j) => !ended.has(j));
};

/** Chunks the job recorded after its `cancelled` entry (there must be none). */
export function chunksAfterCancel(rec: RecordEntry[], job: string): RecordEntry[] {
  const at = rec.findIndex((e) => e["job"] === job && e.event === "cancelled");
  if (at < 0) return [];
  return rec.slice(at + 1).filter((e) => e["job"] === job && e.event === "chunk");
}

/**
 * Waits for the next job call after `callsBefore` calls, and returns its id.
 * @example const job = await nextCall(standin.record, before);
 */
export async function nextCall(file: string, callsBefore: number, timeoutMs = 30_000): Promise<string> {
  const rec = await waitForRecord(file, (r) => jobsWith(r, "call").length > callsBefore, timeoutMs);
  return jobsWith(rec, "call")[callsBefore]!;
}

/** Number of job calls so far. */
export const callCount = (file: string): number => jobsWith(readRecord(file), "call").length;

/**
 * Waits until the job has an end event; returns the event and the record at that moment.
 * @example const { end } = await jobEnd(standin.record, job); // "cancelled"
 */
export async function jobEnd(file: string, job: string, timeoutMs = 30_000): Promise<{ end: string; rec: RecordEntry[] }> {
  const rec = await waitForRecord(
    file,
    (r) => r.some((e) => e["job"] === job && (END_EVENTS as readonly string[]).includes(e.event)),
    timeoutMs,
  );
  const end = rec.find((e) => e["job"] === job && (END_EVENTS as readonly string[]).includes(e.event))!.event;
  return { end, rec };
}
