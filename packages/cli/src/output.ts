/**
 * Where the audio goes: a file written under a temporary name beside it and renamed into place
 * only when complete (a failure or Ctrl-C leaves no half-written file), or stdout.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { once } from "node:events";
import { randomBytes } from "node:crypto";

/** An output being written. */
export interface AudioOutput {
  /** What the person sees: the file name, or `stdout`. */
  readonly name: string;
  /** Writes one piece, waiting while the destination is full (backpressure). */
  write(bytes: Uint8Array): Promise<void>;
  /** Finishes: the file appears under its name. */
  commit(): Promise<void>;
  /** Gives up: the temporary file is removed; nothing appears. Safe to call twice or after commit. */
  abort(): Promise<void>;
  /** Bytes written so far. */
  readonly bytes: number;
}

async function writeTo(stream: NodeJS.WritableStream & { destroyed?: boolean }, bytes: Uint8Array): Promise<void> {
  if (!stream.write(bytes)) await once(stream, "drain");
}

/**
 * Opens `target` (`-` is stdout) for writing.
 * @example
 * const out = await openOutput("hello.wav");
 * try { await out.write(bytes); await out.commit(); } finally { await out.abort(); }
 */
export async function openOutput(target: string, stdout: NodeJS.WriteStream = process.stdout): Promise<AudioOutput> {
  let bytes = 0;
  if (target === "-") {
    return {
      name: "stdout",
      get bytes() {
        return bytes;
      },
      async write(b) {
        bytes += b.length;
        await writeTo(stdout, b);
      },
      async commit() {},
      async abort() {},
    };
  }
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString("hex")}.part`);
  const file: WriteStream = createWriteStream(tmp, { flags: "wx" });
  await once(file, "open");
  let state: "open" | "committed" | "aborted" = "open";
  return {
    name: target,
    get bytes() {
      return bytes;
    },
    async write(b) {
      bytes += b.length;
      await writeTo(file, b);
    },
    async commit() {
      if (state !== "open") return;
      file.end();
      await once(file, "close");
      await rename(tmp, target);
      state = "committed";
    },
    async abort() {
      if (state !== "open") return;
      state = "aborted";
      file.destroy();
      if (!file.closed) await once(file, "close").catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
    },
  };
}
