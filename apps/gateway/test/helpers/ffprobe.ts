/**
 * What ffprobe and ffmpeg say of audio bytes: the container, codec, rate and channels as
 * ffprobe reads them, and the duration by decoding every sample (a streamed FLAC or WAV carries
 * no length of its own, and an MP3 without a Xing header only has an estimate).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Probed {
  format: string;
  codec: string;
  sampleRate: number;
  channels: number;
  /** Duration of the decoded samples. @unit milliseconds */
  decodedMs: number;
  /** ffprobe's own duration (header or estimate), when it gives one. @unit milliseconds */
  probedMs: number | undefined;
}

function run(cmd: string, args: string[], input?: Uint8Array): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    p.stdout.on("data", (b: Buffer) => out.push(b));
    p.stderr.on("data", (b: Buffer) => (err += b.toString()));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    p.stdin.on("error", () => undefined);
    p.stdin.end(input);
  });
}

/**
 * @example const p = await probe(mp3Bytes, "mp3"); // { codec: "mp3", sampleRate: 24000, decodedMs: 4800, ... }
 * @param rawPcm for headerless PCM: its rate (ffprobe cannot guess it)
 */
export async function probe(bytes: Uint8Array, ext: string, rawPcm?: { sampleRate: number }): Promise<Probed> {
  const file = join(mkdtempSync(join(tmpdir(), "probe-")), `audio.${ext}`);
  writeFileSync(file, bytes);
  const input = rawPcm ? ["-f", "s16le", "-ar", String(rawPcm.sampleRate), "-ch_layout", "mono"] : [];
  const p = await run("ffprobe", ["-v", "error", ...input, "-show_entries", "format=format_name,duration:stream=codec_name,sample_rate,channels", "-of", "json", file]);
  if (p.code !== 0) throw new Error(`ffprobe failed on ${ext}: ${p.stderr}`);
  const info = JSON.parse(p.stdout.toString()) as {
    format: { format_name: string; duration?: string };
    streams: { codec_name: string; sample_rate: string; channels: number }[];
  };
  const s = info.streams[0];
  if (!s) throw new Error("no audio stream");
  const sampleRate = Number(s.sample_rate);
  const d = await run("ffmpeg", ["-v", "error", ...input, "-i", file, "-f", "s16le", "-ac", "1", "-ar", String(sampleRate), "pipe:1"]);
  if (d.code !== 0) throw new Error(`ffmpeg could not decode ${ext}: ${d.stderr}`);
  return {
    format: info.format.format_name,
    codec: s.codec_name,
    sampleRate,
    channels: s.channels,
    decodedMs: (d.stdout.byteLength / 2 / sampleRate) * 1000,
    probedMs: info.format.duration !== undefined ? Number(info.format.duration) * 1000 : undefined,
  };
}

/**
 * Separately encoded ADTS segments of a WAV, cut as Gradio cuts its HLS stream (each segment
 * its own AAC file): what the SDK's stream yields.
 * @example const segments = await adtsSegments(synthWav({ seconds: 3 }), 3);
 */
export async function adtsSegments(wav: Uint8Array, count: number, sampleRate = 24_000): Promise<Buffer[]> {
  const dataBytes = wav.byteLength - 44;
  const per = Math.floor(dataBytes / count / 2) * 2;
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const pcm = wav.subarray(44 + i * per, i === count - 1 ? wav.byteLength : 44 + (i + 1) * per);
    const r = await run("ffmpeg", ["-v", "error", "-f", "s16le", "-ar", String(sampleRate), "-ac", "1", "-i", "pipe:0", "-c:a", "aac", "-b:a", "64k", "-f", "adts", "pipe:1"], pcm);
    if (r.code !== 0) throw new Error(r.stderr);
    out.push(r.stdout);
  }
  return out;
}

/** ffmpeg processes whose parent is this process, counted from /proc (not from our own counter). */
export async function liveFfmpegChildren(): Promise<number> {
  const r = await run("ps", ["-o", "comm=", "--ppid", String(process.pid)]);
  return r.stdout
    .toString()
    .split("\n")
    .filter((l) => l.trim() === "ffmpeg").length;
}
