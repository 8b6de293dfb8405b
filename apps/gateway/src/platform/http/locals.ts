/** What the middleware chain leaves on `res.locals` for later handlers. */
import type { Caller } from "../../service/owners.ts";
import type { Lease } from "../../backends/pool/index.ts";
import type { ProblemCode } from "../../doors/problems.ts";
import type { SniffedAudio } from "../../service/sniff-audio.ts";

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** Set by `requestId()`; echoed as X-Request-Id and in every problem. */
      requestId: string;
      /** Set by `apiKeys()`: `key:<fingerprint>` for a keyed client; unset for anonymous ones. */
      clientKey?: string;
      /** Set by `apiKeys()` for a keyed client: its owner id and admin flag (see `callerOf`). */
      caller?: Caller;
      /** Set by `upstreamDeadline()`: aborts on deadline, client disconnect or shutdown. */
      signal?: AbortSignal;
      /** Set by `concurrencyCap()`: the job slot (and so the backend) the request holds. */
      lease?: Lease;
      /** Set by `uploadAudio()`: the sniffed upload. */
      upload?: SniffedAudio;
      /** Set by `problemHandler()`: the kind of problem answered (rate limits give refusals back). */
      problemCode?: ProblemCode;
    }
  }
}

export {};
