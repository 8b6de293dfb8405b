/**
 * The drivers, one line each: a new kind of box is one folder plus one line here.
 */
import { fastapiBackend } from "./cosyvoice-fastapi/driver.ts";
import { grpcBackend } from "./cosyvoice-grpc/driver.ts";
import { gradioBackend } from "./gradio/driver.ts";
import type { BackendKind, Codec, DriverOptions, SynthesisBackend } from "./port.ts";

export type { DriverOptions } from "./port.ts";

/** Builds a driver for one box. */
export type DriverFactory = (url: string, options: DriverOptions) => SynthesisBackend;

/** A registered driver: its factory, and the codec its chunks come in (known before any call). */
export interface Driver {
  make: DriverFactory;
  codec: Codec["kind"];
}

/** The registered drivers. */
export const DRIVERS: Partial<Record<BackendKind, Driver>> = {
  gradio: { make: gradioBackend, codec: "adts" },
  "cosyvoice-fastapi": { make: fastapiBackend, codec: "pcm_s16le" },
  "cosyvoice-grpc": { make: grpcBackend, codec: "pcm_s16le" },
};
