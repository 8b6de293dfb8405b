/**
 * What each kind of box is called where a person reads it: problem titles, `/readyz`. A driver
 * names its own service where it is registered (`drivers.ts`); the kinds no driver speaks for
 * are named here.
 */
import { DRIVERS } from "../drivers.ts";
import type { BoxKind } from "./box.ts";

const OTHERS: Record<Exclude<BoxKind, keyof typeof DRIVERS>, string> = {
  asr: "speech-recognition service",
  http: "backend service",
};

/**
 * The service a kind of box is, for a sentence ("The ... is unreachable").
 * @example serviceOf("asr") // "speech-recognition service"
 */
export function serviceOf(kind: BoxKind | undefined): string {
  if (kind === undefined) return "backend";
  if (kind === "asr" || kind === "http") return OTHERS[kind];
  return DRIVERS[kind]?.service ?? kind;
}

/**
 * The title of a problem that names the box's service: `unreachable` (502 backend-unreachable),
 * `failed` (502 backend-error), `not ready`.
 * @example boxTitle("asr", "unreachable") // "The speech-recognition service is unreachable"
 */
export function boxTitle(kind: BoxKind | undefined, what: "unreachable" | "failed" | "timeout" | "unsupported"): string {
  const s = serviceOf(kind);
  switch (what) {
    case "unreachable":
      return `The ${s} is unreachable`;
    case "failed":
      return `The ${s} failed`;
    case "timeout":
      return `The ${s} did not answer in time`;
    case "unsupported":
      return `The ${s} is not what it was taken for`;
  }
}

/** Which title a box's failure gets, from its code (`connection`, `upstream`, ...). */
export function titleForCode(kind: BoxKind | undefined, code: string): string | undefined {
  if (code === "connection" || code === "unreachable" || code === "asr_unavailable") return boxTitle(kind, "unreachable");
  if (code === "upstream" || code === "failed") return boxTitle(kind, "failed");
  if (code === "timeout" || code === "deadline_exceeded") return boxTitle(kind, "timeout");
  if (code === "unsupported_backend") return boxTitle(kind, "unsupported");
  return undefined;
}

/** Where an error a box raised says which kind of box it was (not enumerable: never serialised). */
const BOX_KIND = Symbol.for("cosyvoice3-gateway.box-kind");

/**
 * Marks an error with the kind of box that raised it, so its problem title can name the service.
 * @example throw tagBoxKind(err, box.kind);
 */
export function tagBoxKind<E>(err: E, kind: BoxKind | undefined): E {
  if (kind !== undefined && typeof err === "object" && err !== null && Object.isExtensible(err) && !(BOX_KIND in err)) {
    Object.defineProperty(err, BOX_KIND, { value: kind, enumerable: false });
  }
  return err;
}

/** The kind {@link tagBoxKind} marked an error with. */
export function boxKindOf(err: unknown): BoxKind | undefined {
  return typeof err === "object" && err !== null ? ((err as Record<symbol, BoxKind | undefined>)[BOX_KIND] ?? undefined) : undefined;
}
