/**
 * `POST /v1/audio/speech`: OpenAI's text-to-speech call. Validates and resolves everything
 * first (voice, instructions, speed, the pieces of a long input), reserves an encoder before
 * any GPU work, then streams: the backend's AAC chunks go through one encoder for the whole
 * input (so the pieces of a long text come out as one continuous file), and each encoded byte
 * leaves as ffmpeg writes it, as raw chunked audio or as SSE events.
 */
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { InstructSchema, TextSchema } from "cosyvoice3-sdk";
import type { BackendChunk, BoxInfo } from "../../backends/port.ts";
import type { Request, RequestHandler, Response } from "express";
import type { RouteContext } from "../../context.ts";
import { encodedStream, expectedRate, poolSourceFormat } from "../../service/encode/encoded-stream.ts";
import type { AudioFormat, SourceFormat } from "../../service/encode/formats.ts";
import { CapacityError, NoAudioError } from "../../service/errors.ts";
import { callerOf } from "../../platform/middleware/api-keys.ts";
import { clientSignal } from "../../platform/middleware/client-signal.ts";
import { jsonBody } from "../../platform/middleware/json-body.ts";
import type { Caller } from "../../service/owners.ts";
import { HttpProblem } from "../problems.ts";
import { zodErrors } from "../rest/schemas.ts";
import { invalidParam } from "./errors.ts";
import { SpeechBodySchema } from "./schemas.ts";
import type { SpeechJob, SpeechService } from "./speech-service.ts";
import { splitText } from "./split-text.ts";
import { chooseVoice, instructionsRefusal, usableVoicesText } from "./voice-choice.ts";

/** Speech tokens CosyVoice generates per second of audio (for `usage.output_tokens`). */
const SPEECH_TOKENS_PER_SECOND = 25;
/** A 4,096-character input of escaped CJK plus instructions needs more than REST's 32 KiB. @unit bytes */
const MIN_JSON_BYTES = 64 * 1024;

interface SpeechPlan {
  job: Omit<SpeechJob, "text">;
  pieces: string[];
  format: AudioFormat;
  sse: boolean;
  info: BoxInfo;
  inputChars: number;
}

/**
 * Validates a body and resolves what it asks for, or throws the 400 that says which field is
 * wrong and how. Nothing runs on the backend.
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
  const choice = chooseVoice(b.voice, voices, config.voiceAliases);
  if (!choice) {
    const asked = typeof b.voice === "string" ? b.voice : b.voice.id;
    throw invalidParam("voice", `Unknown voice ${JSON.stringify(asked.slice(0, 200))}. Voices you can use: ${usableVoicesText(voices, config.voiceAliases)}`, "voice_not_found");
  }

  const instructions = b.instructions?.trim() || undefined;
  if (instructions !== undefined) {
    const refusal = instructionsRefusal(info, choice.voice);
    if (refusal) throw invalidParam("instructions", `instructions cannot be followed: ${refusal}`, "instructions_unsupported");
    const checked = InstructSchema.safeParse(instructions);
    if (!checked.success) throw invalidParam("instructions", `instructions: ${checked.error.issues[0]?.message ?? "not usable"} (CosyVoice's instruct limit is 500 characters)`, "invalid_instructions");
  }

  return {
    job: {
      caller,
      voice: choice.voice.id,
      ...(instructions !== undefined ? { instruct: instructions } : {}),
      // Speed 1 is no change; leaving it out keeps the backend's streaming inference.
      ...(b.speed !== undefined && b.speed !== 1 ? { speed: b.speed } : {}),
    },
    pieces,
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
    for (const [i, text] of p.pieces.entries()) {
      const waitUntil = Date.now() + config.upstreamTimeoutMs;
      for (;;) {
        const s = speech.stream({ ...p.job, text }, { signal });
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

  async function speak(req: Request, res: Response): Promise<void> {
    const signal = res.locals.signal;
    if (!signal) throw new HttpProblem("internal");
    const p = await planSpeech(req.body, callerOf(res), ctx, speech, signal);
    // Last, after everything that can refuse cheaply, and before any GPU work: a refusal here
    // (every encoder busy) is safe to retry.
    const from = poolSourceFormat(ctx.deps.backend.backends());
    const ticket = encoders.reserve(from ?? "aac", p.format);
    res.once("close", () => ticket.release());

    let firstId: string | undefined;
    // The encoder starts on the first next(), while the backend is still working on the first
    // chunk, so ffmpeg is up, primed at the rate the chunks will most likely have, when it
    // arrives (AAC); PCM asked of PCM boxes passes through as the boxes sent it.
    const reserve = (f: SourceFormat) => {
      const t = encoders.reserve(f, p.format);
      res.once("close", () => t.release());
      return t;
    };
    const out = encodedStream(chunksOf(p, signal, (id) => (firstId = id)), ticket, p.format, { expected: expectedRate(p.info), signal, from, reserve });
    const encoded = out[Symbol.asyncIterator]();
    let finished = false;
    try {
      let next = await encoded.next();
      if (next.done) throw new NoAudioError();
      // setHeader, not res.set: Express would add a charset to text/event-stream.
      res.status(200).setHeader("Content-Type", p.sse ? "text/event-stream" : out.mimeType);
      res.set({
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
        "X-Sample-Rate": String(out.sampleRate),
        // The backend's own AAC of a one-piece input is kept, as for REST streams (GET /audio/{id}).
        ...(p.pieces.length === 1 && firstId !== undefined ? { "X-Audio-Id": firstId } : {}),
      });
      while (!next.done) {
        const bytes = next.value;
        const ok = p.sse ? res.write(`data: ${JSON.stringify({ type: "speech.audio.delta", audio: Buffer.from(bytes).toString("base64") })}\n\n`) : res.write(bytes);
        // A client that stops reading (but stays) is given one job's time to go on.
        if (!ok) await once(res, "drain", { signal: AbortSignal.any([signal, AbortSignal.timeout(config.upstreamTimeoutMs)]) });
        next = await encoded.next();
      }
      finished = true;
      if (p.sse) {
        const outputTokens = Math.round((out.sourceSamples / out.sourceRate) * SPEECH_TOKENS_PER_SECOND);
        const usage = { input_tokens: p.inputChars, output_tokens: outputTokens, total_tokens: p.inputChars + outputTokens };
        res.write(`data: ${JSON.stringify({ type: "speech.audio.done", usage })}\n\n`);
      }
      res.end();
    } catch (err) {
      throw signal.aborted ? signal.reason : err;
    } finally {
      if (!finished) await encoded.return(undefined).catch(() => undefined);
    }
  }

  return [ctx.guards.auth, ctx.guards.scope("synthesize"), ctx.guards.synthesizeLimit, jsonBody({ maxBytes: Math.max(config.maxJsonBytes, MIN_JSON_BYTES) }), clientSignal(), speak];
}
