/**
 * Which backend a job should try, as a pure function of what the pool knows: no clock, no I/O,
 * so every rule here is unit-tested.
 */
import type { Mode, SynthesisRequest } from "cosyvoice3-sdk";

/**
 * What a job needs of a box: its mode, the built-in speaker when it names one, the instruct form
 * (with a speaker, or with prompt audio: instruct2), and `speed` when it is not 1.
 */
export interface JobNeeds {
  mode: Mode;
  speaker?: string;
  instructWith?: "voice" | "promptAudio";
  speed?: true;
}

/**
 * @example needsOf({ mode: "pretrained", text: "Hi.", voice: "中文女" }) // { mode: "pretrained", speaker: "中文女" }
 */
export function needsOf(request: SynthesisRequest): JobNeeds {
  const speaker = "voice" in request && typeof request.voice === "string" ? request.voice : undefined;
  const instructWith = request.mode !== "instruct" ? undefined : speaker !== undefined ? "voice" : "promptAudio";
  return {
    mode: request.mode,
    ...(speaker !== undefined ? { speaker } : {}),
    ...(instructWith !== undefined ? { instructWith } : {}),
    ...(request.speed !== undefined && request.speed !== 1 ? { speed: true as const } : {}),
  };
}

/** What ranking sees of one box. */
export interface RankedBox {
  state: "unknown" | "up" | "down";
  /** Passed over until then (its UI queue was full). @unit milliseconds since the epoch */
  coolUntil: number;
  /** Jobs running and waiting per slot. */
  outstanding: number;
  /** Its circuit breaker takes no job now (open, or its probe running): never chosen. */
  blocked?: boolean;
  /** Its modes and speakers (and instruct form, speed), once known (a box not yet seen may do anything). */
  can?: { modes: readonly Mode[]; speakers: readonly string[]; instructNeeds?: "voice" | "promptAudio" | undefined; speed?: boolean | undefined } | undefined;
}

/**
 * True when the box can run the job, as far as the pool knows: its variant and model offer the
 * mode (and the speaker, if one is named). A box never seen is given the benefit of the doubt.
 * @example canRun({ state: "up", coolUntil: 0, outstanding: 0, can: { modes: ["clone"], speakers: [] } }, { mode: "instruct" }) // false
 */
export function canRun(box: RankedBox, needs: JobNeeds | undefined): boolean {
  if (!needs || !box.can) return true;
  const { can } = box;
  return (
    can.modes.includes(needs.mode) &&
    (needs.speaker === undefined || can.speakers.includes(needs.speaker)) &&
    (needs.instructWith === undefined || can.instructNeeds === undefined || can.instructNeeds === needs.instructWith) &&
    (needs.speed === undefined || can.speed !== false)
  );
}

/** Options of {@link rank}. */
export interface RankOptions {
  /** @unit milliseconds since the epoch */
  now: number;
  /** Where ties in load start (a rotating cursor, so an idle pool takes turns). */
  start: number;
  /** Boxes already tried for this job. */
  exclude?: ReadonlySet<number>;
  /** Include boxes marked down (last), so a job still tries one when all are down. */
  allowDown: boolean;
  needs?: JobNeeds | undefined;
}

/**
 * Indexes of the boxes in the order a job should try them: those that can run it, usable ones
 * (not down, not cooling off after a full queue) first by fewest outstanding jobs per slot, ties
 * taken in turn from `start`; then cooling ones; then, only with `allowDown`, those marked down.
 * @example rank(boxes, { now: Date.now(), start: 0, allowDown: true, needs: { mode: "clone" } }) // [1, 0]
 */
export function rank(boxes: readonly RankedBox[], opts: RankOptions): number[] {
  const n = boxes.length;
  const tier = (b: RankedBox) => (b.state === "down" ? 2 : b.coolUntil > opts.now ? 1 : 0);
  return boxes
    .map((b, i) => ({ b, i, turn: (i - (opts.start % n) + n) % n }))
    .filter(({ b, i }) => !opts.exclude?.has(i) && b.blocked !== true && (opts.allowDown || b.state !== "down") && canRun(b, opts.needs))
    .sort((x, y) => tier(x.b) - tier(y.b) || x.b.outstanding - y.b.outstanding || x.turn - y.turn)
    .map(({ i }) => i);
}
