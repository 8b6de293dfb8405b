/**
 * The drivers, one line each: a new kind of box is one folder plus one line here.
 */
import { fastapiBackend } from "./cosyvoice-fastapi/driver.ts";
import { gradioBackend } from "./gradio/driver.ts";
import type { BackendKind, DriverOptions, SynthesisBackend } from "./port.ts";

export type { DriverOptions } from "./port.ts";

/** Builds a driver for one box. */
export type DriverFactory = (url: string, options: DriverOptions) => SynthesisBackend;

/** The registered drivers. */
export const DRIVERS: Partial<Record<BackendKind, DriverFactory>> = {
  gradio: gradioBackend,
  "cosyvoice-fastapi": fastapiBackend,
};
