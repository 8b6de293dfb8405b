/**
 * `POST /v1/audio/speech`: OpenAI's text-to-speech call. Validates and plans everything first
 * (voice, instructions, speed, the pieces of a long input: one plan, each piece its text),
 * reserves an encoder before any GPU work, then streams through the one audio response writer:
 * the boxes' chunks go through one encoder for the whole input (so the pieces of a long text
 * come out as one continuous file), and each encoded byte leaves as ffmpeg writes it, as raw
 * chunked audio or as SSE events.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { InstructSchema, TextSchema } from "cosyvoice3-sdk";
import type { BackendChunk, BoxInfo } from "../../backends/port.ts";
import type { Request, RequestHandler, Response } from "express";
import type { RouteContext } from "../../context.ts";
import { adtsSampleRate, adtsSamples } from "../../service/encode/adts.ts";
import { expectedRate, poolSourceFormat } from "../../service/encode/encoded-stream.ts";
import { FORMATS, type AudioFormat } from "../../service/encode/formats.ts";
import { withText, type SynthesisPlan } from "../../service/plan.ts";
import { reserveAudioResponse, sendAudio, type AnswerFacts, type AudioFraming } from "../../service/respond/audio-response.ts";
import { CapacityError, NoAudioError } from "../../service/errors.ts";
import { callerOf } from "../../platform/middleware/api-keys.ts";
import { clientSignal } from "../../platform/middleware/client-signal.ts";
import { jsonBody } from "../../platform/middleware/json-body.ts";
import type { Caller } from "../../service/owners.ts";
import { HttpProblem } from "../problems.ts";
import { zodErrors } from "../rest/schemas.ts";
import { invalidParam } from "./errors.ts";
import { SpeechBodySchema } from "./schemas.ts";
import type { SpeechService } from "./speech-service.ts";
import { splitText } from "./split-text.ts";
import { peekWhole } from "./whole-clip.ts";
import { chooseVoice, instructionsRefusal, isOpenAIVoiceName, usableVoicesText } from "./voice-choice.ts";

/** Speech tokens CosyVoice generates per second of audio (for `usage.output_tokens`). */
const SPEECH_TOKENS_PER_SECOND = 25;
/** How long after the first chunk the stream must have ended to count as a clip known whole. @unit milliseconds */
const WHOLE_CLIP_GRACE_MS = 5;
/** A 4,096-character input of escaped CJK plus instructions needs more than REST's 32 KiB. @unit bytes */
const MIN_JSON_BYTES = 64 * 1024;

interface SpeechPlan {
  /** One per piece of the input: the first planned, the others the same plan with their text. */
  plans: SynthesisPlan[];
  format: AudioFormat;
  sse: boolean;
  info: BoxInfo;
  inputChars: number;
}

/**
 * Validates a body and plans what it asks for (the voice resolved once for every piece), or
 * throws the 400 that says which field is wrong and how. Nothing runs on the backend.
 */
async function planSpeech(body: unknown, caller: Caller, ctx: RouteContext, speech: SpeechService, signal: AbortSignal): Promise<SpeechPlan> {
  const { config } = ctx;
  const parsed = SpeechBodySchema.safeParse(body);
  if (!parsed.success) throw new HttpProblem("invalid_request", { errors: zodErrors(parsed.error, { input: body, schema: SpeechBodySchema }) });
  const b = parsed.data;

  const input = b.input.trim();
  if (input === "") throw invalidParam("input", "input must not be empty", "empty_input");
  const pieces = splitText(input, config.maxTextChars);
  for (const piece of pieces) {
    const checked = TextSchema.safeParse(piece);
    if (!checked.success) throw invalidParam("input", checked.error.issues[0]?.message ?? "input cannot be spoken", "unspeakable_input");
  }
  if (pieces.length === 0) throw invalidParam("input", "input must contain speakable characters (a letter or a digit)", "unspeakable_input");

  if (b.speed !== undefined && (b.speed < 0.5 || b.speed > 2)) {
    throw invalidParam("speed", `speed must be between 0.5 and 2.0 (CosyVoice's range; OpenAI's 0.25 to 4 is wider), got ${b.speed}`, "speed_out_of_range");
  }

  const [voices, info] = await Promise.all([speech.voices(caller, signal), speech.info()]);
  const choice = chooseVoice(b.voice, voices, config.voiceAliases, config.defaultVoice);
  if (!choice) {
    const asked = typeof b.voice === "string" ? b.voice : b.voice.id;
    // One of OpenAI's names: say how it could work here.
    const hint = !isOpenAIVoiceName(asked)
      ? ""
      : config.defaultVoice !== undefined
        ? ` (OpenAI's voice names stand for DEFAULT_VOICE ${JSON.stringify(config.defaultVoice)}, which is not one of your voices)`
        : " (OpenAI's own voice names work here once the operator sets DEFAULT_VOICE or VOICE_ALIASES)";
    throw invalidParam("voice", `Unknown voice ${JSON.stringify(asked.slice(0, 200))}${hint}. Voices you can use: ${usableVoicesText(voices, config.voiceAliases)}`, "voice_not_found");
  }

  // Empty, whitespace, "None" and "null" were made absent by the schema.
  const instructions = b.instructions;
  if (instructions !== undefined) {
    const refusal = instructionsRefusal(info, choice.voice);
    if (refusal) throw invalidParam("instructions", `instructions cannot be followed: ${refusal}`, "instructions_unsupported");
    const checked = InstructSchema.safeParse(instructions);
    if (!checked.success) throw invalidParam("instructions", `instructions: ${checked.error.issues[0]?.message ?? "not usable"} (CosyVoice's instruct limit is 500 characters)`, "invalid_instructions");
  }

  const [head, ...rest] = pieces as [string, ...string[]];
  const first = await speech.plan(
    {
      caller,
      voice: choice.voice.id,
      text: head,
      ...(instructions !== undefined ? { instruct: instructions } : {}),
      // Speed 1 is no change; leaving it out keeps the backend's streaming inference.
      ...(b.speed !== undefined && b.speed !== 1 ? { speed: b.speed } : {}),
    },
    { signal },
  );
  return {
    plans: [first, ...rest.map((text) => withText(first, text))],
    format: b.response_format ?? "mp3",
    sse: b.stream_format === "sse",
    info,
    inputChars: input.length,
  };
}

/**
 * The middleware chain of `POST /v1/audio/speech`.
 * @example router.post("/audio/speech", ...speechHandlers(ctx, speech));
 */
export function speechHandlers(ctx: RouteContext, speech: SpeechService): RequestHandler[] {
  const { config } = ctx;
  const { encoders } = ctx.deps;

  /**
   * The backend's chunks for every piece, in order. Each piece is its own job in the synthesis
   * service (its own slot, deadline and stored clip). A piece after the first that finds every
   * slot taken waits and tries again (nothing ran; the client is already listening), within the
   * deadline one job has.
   */
  async function* chunksOf(p: SpeechPlan, signal: AbortSignal, onFirst: (id: string) => void): AsyncGenerator<BackendChunk> {
    for (const [i, plan] of p.plans.entries()) {
      const waitUntil = Date.now() + config.upstreamTimeoutMs;
      for (;;) {
        const s = speech.stream(plan, { signal });
        let yielded = false;
        try {
          for await (const chunk of s) {
            if (!yielded && i === 0) onFirst(s.id);
            yielded = true;
            yield chunk;
          }
          break;
        } catch (err) {
          if (i === 0 || yielded || !(err instanceof CapacityError) || Date.now() + err.retryAfterMs > waitUntil) throw err;
          await sleep(Math.min(err.retryAfterMs, 1_000), undefined, { signal });
        }
      }
    }
  }

  /** OpenAI's framing of an answer: raw or SSE, `X-Audio-Id` when one clip is the answer, SSE's usage at the end. */
  function framingOf(p: SpeechPlan, audioId: () => string | undefined): AudioFraming {
    return {
      framing: p.sse ? "sse" : "raw",
      headers: () => {
        const id = audioId();
        // The backend's own audio of a one-piece input is kept, as for REST streams (GET /audio/{id}).
        return p.plans.length === 1 && id !== undefined ? { "X-Audio-Id": id } : {};
      },
      done: (f: AnswerFacts) => {
        const outputTokens = Math.round(f.seconds * SPEECH_TOKENS_PER_SECOND);
        return { usage: { input_tokens: p.inputChars, output_tokens: outputTokens, total_tokens: p.inputChars + outputTokens } };
      },
    };
  }

  /** A clip known whole, converted in one go (FLAC through a file: its header says its length). */
  async function sendWhole(res: Response, p: SpeechPlan, chunks: BackendChunk[], framing: AudioFraming, signal: AbortSignal): Promise<void> {
    if (chunks.length === 0) throw new NoAudioError();
    const aac = Buffer.concat(chunks.map((c) => c.data));
    const rate = adtsSampleRate(aac) ?? expectedRate(p.info);
    const bytes = await encoders.convert(aac, { from: "aac", to: p.format, sampleRate: rate, signal });
    const facts = { mimeType: FORMATS[p.format].mimeType, sampleRate: FORMATS[p.format].outputRate(rate), seconds: adtsSamples(aac) / rate };
    sendAudio(res, bytes, facts, framing);
    keep(p, { ...facts, bytes });
  }

  /**
   * Keeps a complete one-piece answer in its format, so the same request again is answered from
   * bytes. Not a streamed FLAC: its header says "length unknown", and the cache's clip gives a
   * complete one (see `sendWhole`).
   */
  function keep(p: SpeechPlan, answer: AnswerFacts & { bytes: Uint8Array }, streamed = false): void {
    const [plan] = p.plans;
    if (p.plans.length !== 1 || !plan || (streamed && p.format === "flac")) return;
    speech.answers?.keep(plan, p.format, { mimeType: answer.mimeType, sampleRate: answer.sampleRate, durationMs: answer.seconds * 1000, audio: answer.bytes });
  }

  /** The answer given before to the same one-piece request in this format, if the cache kept it. */
  async function keptAnswer(p: SpeechPlan): Promise<{ bytes: Uint8Array; facts: AnswerFacts } | undefined> {
    const [plan] = p.plans;
    if (p.plans.length !== 1 || !plan || !speech.answers) return undefined;
    const hit = await speech.answers.get(plan, p.format);
    if (!hit) return undefined;
    return { bytes: hit.audio, facts: { mimeType: hit.mimeType, sampleRate: hit.sampleRate ?? FORMATS[p.format].outputRate(expectedRate(p.info)), seconds: hit.durationMs / 1000 } };
  }

  async function speak(req: Request, res: Response): Promise<void> {
    const signal = res.locals.signal;
    if (!signal) throw new HttpProblem("internal");
    const p = await planSpeech(req.body, callerOf(res), ctx, speech, signal);
    let firstId: string | undefined;
    const framing = framingOf(p, () => firstId);
    // Asked before: the same bytes again, with no box, slot or encoder (issue 19's cache hits).
    const kept = await keptAnswer(p);
    if (kept) {
      sendAudio(res, kept.bytes, kept.facts, framing);
      return;
    }
    // Last, after everything that can refuse cheaply, and before any GPU work: a refusal here
    // (every encoder busy) is safe to retry.
    const from = poolSourceFormat(ctx.deps.backend.backends());
    const answer = reserveAudioResponse(res, {
      ...framing,
      encoders,
      format: p.format,
      from,
      // The encoder starts on the first next(), while the backend is still working on the first
      // chunk, so ffmpeg is up, primed at the rate the chunks will most likely have, when it
      // arrives (AAC); PCM asked of PCM boxes passes through as the boxes sent it.
      expected: expectedRate(p.info),
      signal,
      // A client that stops reading (but stays) is given one job's time to go on.
      drainTimeoutMs: config.upstreamTimeoutMs,
      ...(speech.answers && p.plans.length === 1 ? { onComplete: (answer: AnswerFacts & { bytes: Buffer }) => keep(p, answer, true) } : {}),
    });

    let source: AsyncIterable<BackendChunk> = chunksOf(p, signal, (id) => (firstId = id));
    // FLAC carries its length in its first header: a clip known whole (a cache hit, the backend's
    // AAC) is sent as a complete file; a live one streams with "length unknown" (a pipe cannot go back).
    if (p.format === "flac" && p.plans.length === 1 && (from ?? "aac") === "aac") {
      const peeked = await peekWhole(source[Symbol.asyncIterator](), WHOLE_CLIP_GRACE_MS);
      if ("whole" in peeked && peeked.whole.every((c) => c.codec.kind === "adts")) {
        answer.release();
        return sendWhole(res, p, peeked.whole, framing, signal);
      }
      source = "whole" in peeked ? (async function* () { yield* peeked.whole; })() : peeked.live;
    }
    await answer.send(source);
  }

  return [ctx.guards.auth, ctx.guards.scope("synthesize"), ctx.guards.synthesizeLimit, jsonBody({ maxBytes: Math.max(config.maxJsonBytes, MIN_JSON_BYTES) }), clientSignal(), speak];
}
