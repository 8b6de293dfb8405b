/**
 * What the gateway knows of one box's health: up, down or not yet seen, when it was last
 * checked, why it went down, and what it is (variant, model, modes, speakers). One per box,
 * whichever doors use it: checks are single-flight; job outcomes and proxied answers update the
 * same state, so a readiness answer needs no network call of its own.
 */

import type { Logger } from "pino";
import type { BoxInfo } from "../port.ts";
import { faultOf } from "../faults.ts";
import { redactError, redactUrl } from "./redact.ts";

/** What the pool knows of one backend: `unknown` until its first check or job. */
export type BackendState = "unknown" | "up" | "down";

/**
 * Why a box is down: the stable `code` of the failure (`connection`, `unsupported_backend`,
 * `timeout`, ...); the doors name it in their own terms (the problem slug at `/readyz`).
 * @example downReason(new ConnectionError("refused")) // "connection"
 */
export function downReason(err: unknown): string {
  return faultOf(err).code || "error";
}

/** Readiness rechecks of a down box allowed back to back, before one per period. */
const RECHECK_BURST = 3;

/** The health of one box. */
export class Health {
  state: BackendState = "unknown";
  /** @unit milliseconds since the epoch */
  checkedAt: number | undefined;
  /** While down: {@link downReason} of the last failure. */
  error: string | undefined;
  /** The last failure itself (readiness reports it). */
  lastError: unknown;
  info: BoxInfo | undefined;
  private checking: Promise<void> | undefined;
  /** Readiness rechecks of a down box still allowed now (a token bucket). */
  private recheckTokens = RECHECK_BURST;
  private refilledAt: number;

  /**
   * @param probe asks the box now; resolves with what it is when it says (a synthesis box), else
   *   undefined (any HTTP server, an ASR server); rejects when it is down
   */
  constructor(
    public name: string,
    private readonly probe: () => Promise<BoxInfo | undefined>,
    private readonly logger: Logger,
    private readonly url: string | undefined,
    private readonly now: () => number,
  ) {
    this.refilledAt = now();
  }

  /** Checks the box now (one check at a time; a caller during a check shares it). */
  check(): Promise<void> {
    this.checking ??= (async () => {
      try {
        const info = await this.probe();
        if (info) this.info = info;
        this.markUp("health check");
      } catch (err) {
        this.markDown(err, "health check");
      } finally {
        this.checkedAt = this.now();
        this.checking = undefined;
      }
    })();
    return this.checking;
  }

  markUp(why: string): void {
    if (this.state !== "up") this.logger.info({ backend: this.name, ...this.shownUrl(), was: this.state, why }, "backend up");
    this.state = "up";
    this.error = undefined;
  }

  markDown(err: unknown, why: string): void {
    const reason = downReason(err);
    if (this.state !== "down") this.logger.warn({ backend: this.name, ...this.shownUrl(), was: this.state, why, error: reason, err: redactError(err) }, "backend down");
    this.state = "down";
    this.error = reason;
    this.lastError = err;
  }

  /** The URL as a log may show it: without credentials. */
  private shownUrl(): { url?: string } {
    return this.url !== undefined ? { url: redactUrl(this.url) } : {};
  }

  /**
   * Whether a readiness question should look at the box again: when never seen (once: callers
   * share the check), or when down and the recheck budget allows (a few at once, then one per
   * `recheckMs`). An up box is kept fresh by the periodic check and by its jobs, never here.
   */
  shouldRecheck(recheckMs: number): boolean {
    if (this.checking) return true;
    if (this.state === "unknown") return true;
    if (this.state !== "down") return false;
    const now = this.now();
    this.recheckTokens = Math.min(RECHECK_BURST, this.recheckTokens + (now - this.refilledAt) / recheckMs);
    this.refilledAt = now;
    if (this.recheckTokens < 1) return false;
    this.recheckTokens -= 1;
    return true;
  }
}
