/**
 * Content negotiation that never ignores what the client asked for: an `Accept` the route
 * cannot meet is a 406 naming what it can send, not a silent JSON answer. Pure: a list of
 * offers in, the chosen offer out; formats added later (mp3, opus, ...) are new offers.
 */
import Negotiator from "negotiator";
import { AUDIO_FORMATS, FORMATS, type AudioFormat } from "../../service/encode/formats.ts";
import { HttpProblem } from "../../doors/problems.ts";

/** One representation a route can answer with. */
export interface Offer {
  /** Media type, e.g. `audio/aac`. */
  type: string;
  /** Whether it is sent as it is generated (chunked) rather than stored first. */
  stream: boolean;
  /** What the client gets, for the 406 detail and the docs. */
  description: string;
  /** The `format` value that asks for a streamed offer in the body (`aac` is the backend's own). */
  audioFormat?: AudioFormat;
}

/**
 * What `POST /synthesize` can answer, in the order preferred when the client has no preference
 * (no `Accept`, or `*` / `*`). A new format is one more entry.
 */
export const SYNTHESIS_OFFERS: readonly Offer[] = [
  { type: "application/json", stream: false, description: "201 with the stored clip's id and url (the clip is audio/wav)" },
  { type: "audio/aac", stream: true, audioFormat: "aac", description: "200 with AAC (ADTS) chunks as they are generated" },
  // The backend's chunks encoded as they come (one ffmpeg per response, src/service/encode/).
  ...AUDIO_FORMATS.filter((f) => f !== "aac").map((f): Offer => ({
    type: FORMATS[f].mimeType.split(";")[0] ?? f,
    stream: true,
    audioFormat: f,
    description: `200 with ${f === "opus" ? "Ogg Opus" : f === "pcm" ? "raw s16le mono PCM (rate in X-Sample-Rate)" : f.toUpperCase()} encoded as the chunks are generated`,
  })),
];

/**
 * The offer an `Accept` header picks (RFC 9110 section 12.5.1: q-values, wildcards, the
 * client's order on ties, else ours), or undefined when it accepts none of them.
 * @example negotiate("audio/*;q=0.9, application/json;q=0.1", SYNTHESIS_OFFERS)?.type // "audio/aac"
 */
export function negotiate(accept: string | undefined, offers: readonly Offer[]): Offer | undefined {
  if (accept === undefined || accept.trim() === "") return offers[0];
  const [type] = new Negotiator({ headers: { accept } }).mediaTypes(offers.map((o) => o.type));
  return offers.find((o) => o.type === type);
}

/**
 * The answer of `POST /synthesize` for its `Accept` header and `stream` field (which, when
 * given, narrows the offers to streamed or stored ones).
 * @throws HttpProblem `not_acceptable` (406) naming what is available
 * @example synthesisOffer("audio/x-matroska", undefined) // throws 406: "... available: application/json (...), audio/aac (...), audio/mpeg (...)"
 */
export function synthesisOffer(accept: string | undefined, stream: boolean | undefined, offers: readonly Offer[] = SYNTHESIS_OFFERS): Offer {
  const candidates = stream === undefined ? offers : offers.filter((o) => o.stream === stream);
  const chosen = negotiate(accept, candidates);
  if (chosen) return chosen;
  const list = (os: readonly Offer[]) => os.map((o) => `${o.type} (${o.description})`).join(", ");
  const why = stream === undefined ? "" : ` with "stream": ${String(stream)}`;
  throw new HttpProblem("not_acceptable", {
    detail: `Accept: ${accept ?? ""} cannot be met${why}. Available: ${list(candidates)}${candidates.length < offers.length ? `; without "stream": ${list(offers)}` : ""}`,
  });
}
