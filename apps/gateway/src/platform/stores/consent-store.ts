/**
 * Voice consents: a speaker's recorded agreement that their voice may be cloned (OpenAI's
 * `/v1/audio/voice_consents`), kept with its recording and, when an ASR server heard it, what
 * was said. Each belongs to the key that uploaded it, like voices. {@link DiskConsentStore} is
 * the embedded default; the Redis one shares them between instances.
 */
import { z } from "zod";
import { CONSENT_ID, newId } from "../ids.ts";
import { RecordFiles } from "./record-files.ts";

export const ConsentRecordSchema = z.object({
  id: z.string().regex(CONSENT_ID),
  owner: z.string().min(1),
  name: z.string(),
  /** BCP 47, as the client sent it. */
  language: z.string(),
  /** @unit milliseconds since the epoch */
  createdAt: z.number().int(),
  recording: z.object({
    mimeType: z.string(),
    ext: z.string().regex(/^[a-z0-9]{1,5}$/),
    bytes: z.number().int(),
    durationMs: z.number().optional(),
  }),
  /** What the ASR server heard, when one was asked. */
  transcript: z.string().optional(),
});
/** One consent as stored. */
export type ConsentRecord = z.infer<typeof ConsentRecordSchema>;

/** A new consent: everything but the id and time, plus the recording's bytes. */
export interface NewConsent {
  owner: string;
  name: string;
  language: string;
  recording: ConsentRecord["recording"];
  transcript?: string;
  data: Uint8Array;
}

/** One page of a listing, newest first (OpenAI's cursor list: `after` is the last id seen). */
export interface ConsentPage {
  data: ConsentRecord[];
  hasMore: boolean;
}

/** Where consents live. */
export interface ConsentStore {
  get(id: string): Promise<ConsentRecord | undefined>;
  /** The owner's consents, newest first, after the given id. */
  list(owner: string | undefined, page: { after?: string; limit: number }): Promise<ConsentPage>;
  create(consent: NewConsent): Promise<ConsentRecord>;
  /** The renamed record, or undefined when it is gone. */
  rename(id: string, name: string): Promise<ConsentRecord | undefined>;
  /** True when a consent was deleted. */
  delete(id: string): Promise<boolean>;
  readRecording(id: string): Promise<Uint8Array | undefined>;
}

/** Newest first; the id breaks ties so a cursor is stable. */
export function byNewest(a: ConsentRecord, b: ConsentRecord): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * One page of `records` (already the owner's, newest first): the ones after `after`.
 * @example pageOf(records, { after: "cons_...", limit: 20 })
 */
export function pageOf(records: ConsentRecord[], page: { after?: string; limit: number }): ConsentPage {
  let start = 0;
  if (page.after !== undefined) {
    const at = records.findIndex((r) => r.id === page.after);
    // An unknown cursor (deleted since) lists nothing rather than starting over.
    start = at < 0 ? records.length : at + 1;
  }
  const data = records.slice(start, start + page.limit);
  return { data, hasMore: start + page.limit < records.length };
}

/** The last creation time handed out: consents made in one millisecond still list in order. */
let lastCreatedAt = 0;

/** A new record with a fresh id, created at `now` (or just after the previous one). */
export function newConsentRecord(c: NewConsent, now: number): ConsentRecord {
  lastCreatedAt = Math.max(now, lastCreatedAt + 1);
  return {
    id: newId("cons_"),
    owner: c.owner,
    name: c.name,
    language: c.language,
    createdAt: lastCreatedAt,
    recording: c.recording,
    ...(c.transcript !== undefined ? { transcript: c.transcript } : {}),
  };
}

/**
 * Consents on local disk: `<dir>/consents.json` (rewritten atomically) and
 * `<dir>/recordings/<id>.<ext>` (written before the registry names it). Opening sweeps temp
 * files and recordings no entry names.
 * @example const consents = await DiskConsentStore.open("/var/lib/gateway/consents");
 */
export class DiskConsentStore implements ConsentStore {
  private constructor(
    private readonly files: RecordFiles<ConsentRecord>,
    private readonly now: () => number,
  ) {}

  static async open(dir: string, now: () => number = Date.now): Promise<DiskConsentStore> {
    return new DiskConsentStore(await RecordFiles.open(dir, { list: "consents.json", files: "recordings", schema: ConsentRecordSchema, ext: (c) => c.recording.ext }), now);
  }

  async get(id: string): Promise<ConsentRecord | undefined> {
    return this.files.get(id);
  }

  async list(owner: string | undefined, page: { after?: string; limit: number }): Promise<ConsentPage> {
    return pageOf(this.files.values().filter((c) => owner === undefined || c.owner === owner).sort(byNewest), page);
  }

  create(consent: NewConsent): Promise<ConsentRecord> {
    return this.files.add(newConsentRecord(consent, this.now()), consent.data);
  }

  rename(id: string, name: string): Promise<ConsentRecord | undefined> {
    return this.files.update(id, (c) => ({ ...c, name }));
  }

  delete(id: string): Promise<boolean> {
    return this.files.remove(id);
  }

  readRecording(id: string): Promise<Uint8Array | undefined> {
    return this.files.read(id);
  }
}

/**
 * Consents in this process only, for an app built without a consent store (tests of other
 * parts, the benchmark); `openStores` always brings a disk or Redis one.
 * @example const app = createApp(config, { ...deps, consents: new MemoryConsentStore() });
 */
export class MemoryConsentStore implements ConsentStore {
  private readonly records = new Map<string, { record: ConsentRecord; data: Uint8Array }>();
  constructor(private readonly now: () => number = Date.now) {}
  async get(id: string) {
    return this.records.get(id)?.record;
  }
  async list(owner: string | undefined, page: { after?: string; limit: number }) {
    return pageOf([...this.records.values()].map((e) => e.record).filter((c) => owner === undefined || c.owner === owner).sort(byNewest), page);
  }
  async create(consent: NewConsent) {
    const record = newConsentRecord(consent, this.now());
    this.records.set(record.id, { record, data: consent.data });
    return record;
  }
  async rename(id: string, name: string) {
    const e = this.records.get(id);
    if (!e) return undefined;
    e.record = { ...e.record, name };
    return e.record;
  }
  async delete(id: string) {
    return this.records.delete(id);
  }
  async readRecording(id: string) {
    return this.records.get(id)?.data;
  }
}
