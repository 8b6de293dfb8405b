/**
 * A small in-test backend implementing the gateway's SynthesisBackend, for pure gateway logic
 * (auth, limits, uploads, problems, ranges). It honours AbortSignal like the SDK does, and
 * records what it was asked and whether a job was aborted.
 */
import {
  AbortError,
  ConnectionError,
  type BackendInfo,
  type CosyVoiceError,
  type RequestOptions,
  type SynthesisRequest,
  type SynthesisResult,
} from "cosyvoice3-sdk";
import type { BackendChunk, BoxInfo, SynthesisBackend } from "../../src/backends/port.ts";
import { gradioInfo } from "../../src/backends/gradio/driver.ts";
import { makeWav } from "./wav.ts";

export interface FakeCall {
  kind: "synthesize" | "stream";
  request: SynthesisRequest;
  outcome?: "done" | "aborted" | "failed";
}

export class FakeBackend implements SynthesisBackend {
  info_: BackendInfo = {
    variant: "official",
    gradioVersion: "5.4.0",
    model: "cosyvoice1",
    sampleRate: 22_050,
    modes: ["pretrained", "clone", "crossLingual", "instruct"],
    speakers: ["中文女", "英文男"],
  };
  /** Time each job takes. @unit milliseconds */
  delayMs = 0;
  /** Chunks a stream yields. */
  chunks = 3;
  /** Thrown by every job (and listVoices when `down`). */
  fail: CosyVoiceError | undefined;
  /** Stream: fail after this many chunks. */
  failAfterChunks: number | undefined;
  down = false;
  readonly calls: FakeCall[] = [];

  private check(): void {
    if (this.down) throw new ConnectionError("connect ECONNREFUSED http://10.1.2.3:7860 at /srv/secret/path.py");
  }

  private wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortError());
      const t = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(new AbortError({ cause: signal?.reason }));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  async info(): Promise<BoxInfo> {
    this.check();
    return gradioInfo(this.info_);
  }
  async probe(): Promise<BoxInfo> {
    return this.info();
  }
  async listVoices(): Promise<string[]> {
    this.check();
    return this.info_.speakers;
  }

  async synthesize(request: SynthesisRequest, options: RequestOptions = {}): Promise<SynthesisResult> {
    const call: FakeCall = { kind: "synthesize", request };
    this.calls.push(call);
    try {
      this.check();
      await this.wait(this.delayMs, options.signal);
      if (this.fail) throw this.fail;
      call.outcome = "done";
      const audio = makeWav({ sampleRate: 22_050, seconds: 1.5, freq: 180 });
      return { audio, mimeType: "audio/wav", sampleRate: 22_050, durationMs: 1500, chunks: 2 };
    } catch (err) {
      call.outcome = err instanceof AbortError ? "aborted" : "failed";
      throw err;
    }
  }

  async *stream(request: SynthesisRequest, options: RequestOptions = {}): AsyncGenerator<BackendChunk> {
    const call: FakeCall = { kind: "stream", request };
    this.calls.push(call);
    try {
      this.check();
      for (let index = 0; index < this.chunks; index++) {
        await this.wait(this.delayMs, options.signal);
        if (this.fail && (this.failAfterChunks ?? 0) <= index) throw this.fail;
        yield { index, data: new Uint8Array(1000 + index).fill(0xf0 + index), codec: { kind: "adts" }, durationMs: 500 };
      }
      call.outcome = "done";
    } catch (err) {
      call.outcome = err instanceof AbortError ? "aborted" : "failed";
      throw err;
    } finally {
      call.outcome ??= "aborted";
    }
  }

  async close(): Promise<void> {}
}
