import { UnsupportedBackendError } from "./errors.ts";
import type { SynthesisRequest } from "./schemas.ts";
import type { AudioChunk, BackendInfo, ClientOptions, RequestOptions, SynthesisResult } from "./types.ts";

/**
 * Client of one CosyVoice web UI. PLACEHOLDER: the SDK issue fills this in.
 */
export class CosyVoice {
  readonly backend: BackendInfo;
  private constructor(backend: BackendInfo) {
    this.backend = backend;
  }
  static async connect(url: string, _options: ClientOptions = {}): Promise<CosyVoice> {
    throw new UnsupportedBackendError(`not implemented yet: ${url}`, {});
  }
  async listVoices(): Promise<string[]> {
    return this.backend.speakers;
  }
  async synthesize(_request: SynthesisRequest, _options: RequestOptions = {}): Promise<SynthesisResult> {
    throw new Error("not implemented");
  }
  // eslint-disable-next-line require-yield
  async *stream(_request: SynthesisRequest, _options: RequestOptions = {}): AsyncGenerator<AudioChunk> {
    throw new Error("not implemented");
  }
  async close(): Promise<void> {}
}
