/**
 * Moving an uploaded file to the box a session lives on. An upload carries no session id, so it
 * may land on another box than the session's (a browser's heartbeat picks the session's box
 * first; Python's `gradio_client` uploads before it joins). Rather than move the session (its
 * state, its open event stream) the gateway copies the file: it reads it from the box that has
 * it (`file=`) and uploads it to the session's box. Gradio stores an upload under the SHA-1 of
 * its bytes and its name, so the copy usually gets the same server path; when it does not, the
 * join's body is changed to name the new path.
 */
import { basename } from "node:path";
import type { PassthroughBackend } from "./backends.ts";

/**
 * Copies `path` from `from` to `to`; resolves with the path on `to`.
 * @param apiBase the upstream path of Gradio's API, e.g. `/gradio_api/`
 * @example const moved = await copyUpload(boxB, boxA, "/tmp/gradio/ab12/prompt.wav", "/gradio_api/", { signal, maxBytes });
 */
export async function copyUpload(
  from: PassthroughBackend,
  to: PassthroughBackend,
  path: string,
  apiBase: string,
  opts: { signal: AbortSignal; maxBytes: number },
): Promise<string> {
  const got = await fetch(`${from.url}${apiBase}file=${encodeURIComponent(path).replace(/%2F/g, "/")}`, { signal: opts.signal });
  if (!got.ok) throw new Error(`reading the upload from ${from.name} answered ${got.status}`);
  const declared = Number(got.headers.get("content-length") ?? "0");
  if (declared > opts.maxBytes) throw new Error("the upload is larger than the cap");
  const bytes = new Uint8Array(await got.arrayBuffer());
  if (bytes.length > opts.maxBytes) throw new Error("the upload is larger than the cap");
  const form = new FormData();
  form.append("files", new Blob([bytes]), basename(path));
  const put = await fetch(`${to.url}${apiBase}upload`, { method: "POST", body: form, signal: opts.signal });
  if (!put.ok) throw new Error(`uploading to ${to.name} answered ${put.status}`);
  const paths = (await put.json()) as unknown;
  if (!Array.isArray(paths) || typeof paths[0] !== "string") throw new Error(`uploading to ${to.name} gave no path`);
  return paths[0];
}

/**
 * Replaces server paths in a join's `data` (FileData `path` fields only).
 * @example renamePaths(body, new Map([["/tmp/a/x.wav", "/tmp/b/x.wav"]]))
 */
export function renamePaths(v: unknown, renames: ReadonlyMap<string, string>, depth = 0): void {
  if (depth > 64 || typeof v !== "object" || v === null) return;
  if (Array.isArray(v)) {
    for (const x of v) renamePaths(x, renames, depth + 1);
    return;
  }
  const o = v as Record<string, unknown>;
  const p = o["path"];
  if (typeof p === "string" && renames.has(p)) {
    o["path"] = renames.get(p);
    // The URL named the old path on the old box; Gradio rebuilds it from the path.
    if ("url" in o) o["url"] = null;
  }
  for (const x of Object.values(o)) if (typeof x === "object") renamePaths(x, renames, depth + 1);
}
