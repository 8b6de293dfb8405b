/**
 * The drivers, one line each: a new kind of box is one folder plus one line here.
 */
import { fastapiBackend } from "./cosyvoice-fastapi/driver.ts";
import { grpcBackend } from "./cosyvoice-grpc/driver.ts";
import { gradioBackend } from "./gradio/driver.ts";
import { openaiBackend } from "./openai/driver.ts";
import type { BackendKind, Codec, DriverOptions, SynthesisBackend } from "./port.ts";

export type { DriverOptions } from "./port.ts";

/** Builds a driver for one box. */
export type DriverFactory = (url: string, options: DriverOptions) => SynthesisBackend;

/** A registered driver: its factory, the codec its chunks come in (known before any call), and what its server is called. */
export interface Driver {
  make: DriverFactory;
  codec: Codec["kind"];
  /** For problem titles and `/readyz`: "The <service> is unreachable". */
  service: string;
}

/** The registered drivers. */
export const DRIVERS: Partial<Record<BackendKind, Driver>> = {
  gradio: { make: gradioBackend, codec: "adts", service: "CosyVoice Gradio UI" },
  "cosyvoice-fastapi": { make: fastapiBackend, codec: "pcm_s16le", service: "CosyVoice FastAPI server" },
  "cosyvoice-grpc": { make: grpcBackend, codec: "pcm_s16le", service: "CosyVoice gRPC server" },
  openai: { make: openaiBackend, codec: "pcm_s16le", service: "OpenAI-compatible speech server" },
};
