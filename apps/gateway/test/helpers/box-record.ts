/**
 * Reading a stand-in box's record in the kind tests: its calls, the `end` event of each call
 * (with the sha256 of the PCM the box sent), and a hash to compare the gateway's bytes against.
 */
import { createHash } from "node:crypto";
import { readRecord, waitForRecord, type RecordEntry } from "@cosyvoice3/testkit";

export const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
export const ends = (record: string): RecordEntry[] => readRecord(record).filter((e) => e.event === "end");
export const calls = (record: string): RecordEntry[] => readRecord(record).filter((e) => e.event === "call");

/** The `end` event of the newest call, once more than `after` are written. */
export async function lastEnd(record: string, after: number): Promise<RecordEntry> {
  const rec = await waitForRecord(record, (r) => r.filter((e) => e.event === "end").length > after, 60_000);
  return rec.filter((e) => e.event === "end").at(-1) as RecordEntry;
}
