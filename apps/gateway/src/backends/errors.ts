/**
 * Errors the drivers raise besides the SDK's (which they share: `ConnectionError`,
 * `UpstreamError`, `TimeoutError`, `AbortError`, each declaring accepted / boxFault /
 * resendable). Only what no SDK class says lives here.
 */
import { GatewayError } from "../service/errors.ts";

/**
 * The box cannot do what the job asks (a mode, an instruct form, `speed`); nothing was sent.
 * Another box may: the pool routes by capabilities, so this is what a job meets when none can.
 * @example throw new BoxCannotError("cosyvoice-fastapi", "speed", "the server has no speed parameter");
 */
export class BoxCannotError extends GatewayError {
  override name = "BoxCannotError";
  /** Another box (another kind, another model) may take it. */
  override readonly resendable = true;
  readonly what: string;
  constructor(kind: string, what: string, why: string) {
    super("unsupported_mode", `This ${kind} backend cannot do ${what}: ${why}`, {
      issues: [{ path: [what === "speed" ? "speed" : "mode"], message: why, code: "unsupported_mode" }],
    });
    this.what = what;
  }
}
