/**
 * Byte caps enforced while reading, not only from what a peer declares: a chunked response has
 * no Content-Length, a file can be a device or still growing. Reading stops (and the source is
 * cancelled) at the first byte over the cap.
 */
import { open } from "node:fs/promises";

/** Thrown by the readers below; callers turn it into their own SDK error. */
export class OverCapError extends Error {
  override name = "OverCapError";
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    super(`more than ${maxBytes} bytes`);
    this.maxBytes = maxBytes;
  }
}

/** Joins chunks into one array (no copy when there is only one). */
function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Reads a response body up to `maxBytes`. A declared Content-Length over the cap fails before
 * reading; otherwise the body is counted as it arrives and cancelled once it passes the cap.
 * @throws OverCapError
 */
export async function readResponseCapped(res: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new OverCapError(maxBytes);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new OverCapError(maxBytes);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return concat(chunks, total);
}

/**
 * Reads a file up to `maxBytes`, whatever `stat` says (a device such as `/dev/zero` reports 0).
 * @throws OverCapError, or the file system's error (ENOENT, EISDIR, ...)
 */
export async function readFileCapped(path: string, maxBytes: number): Promise<Uint8Array> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    if (size > maxBytes) throw new OverCapError(maxBytes);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      // One byte past the cap is enough to know it is over.
      const want = Math.min(64 * 1024, maxBytes + 1 - total);
      const buf = new Uint8Array(want);
      const { bytesRead } = await file.read(buf, 0, want, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw new OverCapError(maxBytes);
      chunks.push(bytesRead === want ? buf : buf.subarray(0, bytesRead));
    }
    return concat(chunks, total);
  } finally {
    await file.close();
  }
}
