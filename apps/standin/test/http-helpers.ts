// Raw HTTP for the API stand-ins' tests: node:http, so a test sees exactly what the server did
// (a GET with a form body, no content type, a body cut off mid-stream) and can hang up at will.
import { createHash } from "node:crypto";
import { request, type IncomingHttpHeaders } from "node:http";
import { readRecord, type RecordEntry } from "@cosyvoice3/testkit";

/** A multipart form's bytes and content type, built by the platform's own FormData encoder. */
export async function formBody(
  fields: Record<string, string>,
  files: Record<string, { data: Uint8Array; name: string; type?: string }> = {},
): Promise<{ body: Buffer; contentType: string }> {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  for (const [k, f] of Object.entries(files)) fd.append(k, new Blob([new Uint8Array(f.data)], { type: f.type ?? "application/octet-stream" }), f.name);
  const req = new Request("http://form.invalid/", { method: "POST", body: fd });
  return { body: Buffer.from(await req.arrayBuffer()), contentType: req.headers.get("content-type") ?? "" };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Sizes of the body pieces as they arrived. */
  pieces: number[];
  /** False when the connection was cut before the body's end (chunked encoding unfinished). */
  complete: boolean;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Called for each body piece; return true to hang up right there. */
  onData?: (piece: Buffer, soFar: number) => boolean | void;
}

/** One HTTP request; resolves when the body ended, was cut, or we hung up. */
export function send(url: string, opts: SendOptions = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const body = typeof opts.body === "string" ? Buffer.from(opts.body) : opts.body;
    const headers: Record<string, string> = { ...opts.headers };
    if (body) headers["content-length"] = String(body.length);
    const req = request(url, { method: opts.method ?? "POST", headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const pieces: number[] = [];
      let size = 0;
      let done = false;
      const finish = (complete: boolean) => {
        if (done) return;
        done = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), pieces, complete });
      };
      res.on("data", (piece: Buffer) => {
        chunks.push(piece);
        pieces.push(piece.length);
        size += piece.length;
        if (opts.onData?.(piece, size)) {
          req.destroy();
          finish(false);
        }
      });
      res.on("end", () => finish(res.complete));
      res.on("aborted", () => finish(false));
      res.on("error", () => finish(false));
      res.on("close", () => finish(res.complete));
    });
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

/** A multipart form request (GET or POST, as upstream's server takes both). */
export async function sendForm(
  url: string,
  fields: Record<string, string>,
  files: Record<string, { data: Uint8Array; name: string; type?: string }> = {},
  opts: Omit<SendOptions, "body"> = {},
): Promise<RawResponse> {
  const { body, contentType } = await formBody(fields, files);
  return send(url, { ...opts, body, headers: { ...opts.headers, "content-type": contentType } });
}

export function sha256(buf: Uint8Array): string {
  return createHash("sha256").update(buf).digest("hex");
}

/** The record's `end` events, in order. */
export function ends(record: string): RecordEntry[] {
  return readRecord(record).filter((e) => e.event === "end");
}

/** Events of one call (by its `job` id). */
export function eventsOf(record: string, job: unknown): string[] {
  return readRecord(record)
    .filter((e) => e["job"] === job)
    .map((e) => e.event);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
