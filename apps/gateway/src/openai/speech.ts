/**
 * `POST /v1/audio/speech`: OpenAI's text-to-speech call. Validates and resolves everything
 * first (voice, instructions, speed, the pieces of a long input), reserves an encoder before
 * any GPU work, then streams: the backend's AAC chunks go through one encoder for the whole
 * input (so the pieces of a long text come out as one continuous file), and each encoded byte
 * leaves as ffmpeg writes it, as raw chunked audio or as SSE events.
 */
import { once } from "node:events";
import { InstructSchema, TextSchema, type AudioChunk, type BackendInfo } from "cosyvoice3-sdk";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { RouteContext } from "../context.ts";
import { adtsSampleRate, adtsSamples } from "../encode/adts.ts";
import type { EncoderTicket } from "../encode/encoders.ts";
import { FORMATS, pcmMimeType, type AudioFormat } from "../encode/formats.ts";
import { concurrencyCap } from "../middleware/concurrency-cap.ts";
import { jsonBody } from "../middleware/json-body.ts";
import { upstreamDeadline } from "../middleware/upstream-deadline.ts";
import { HttpProblem } from "../problems.ts";
import { zodErrors } from "../schemas.ts";
import { invalidParam } from "./errors.ts";
import { SpeechBodySchema } from "./schemas.ts";
import type { SpeechJob, SpeechService } from "./speech-service.ts";
import { splitText } from "./split-text.ts";
import { chooseVoice, instructionsRefusal, usableVoicesText } from "./voice-choice.ts";

/** Speech tokens CosyVoice generates per second of audio (for `usage.output_tokens`). */
const SPEECH_TOKENS_PER_SECOND = 25;
/** A 4,096-character input of escaped CJK plus instructions needs more than REST's 32 KiB. @unit bytes */
const MIN_JSON_BYTES = 64 * 1024;
/** Until the backend has said its rate (known after its first job), CosyVoice 2/3's. @unit hertz */
const DEFAULT_RATE = 24_000;

interface SpeechPlan {
  job: Omit<SpeechJob, "text">;
  pieces: string[];
  format: AudioFormat;
  sse: boolean;
  info: BackendInfo;
  ticket: EncoderTicket;
  inputChars: number;
}

const plans = new WeakMap<Request, SpeechPlan>();

/**
 * The middleware chain of `POST /v1/audio/speech`.
 * @example router.post("/audio/speech", ...speechHandlers(ctx, speech));
 */
export function speechHandlers(ctx: RouteContext, speech: SpeechService): RequestHandler[] {
  const { config } = ctx;
  const { encoders } = ctx.deps;
  const shutdown = ctx.deps.shutdown ? { shutdown: ctx.deps.shutdown } : {};

  async function plan(req: Request, res: Response, next: NextFunction): Promise<void> {
    const parsed = SpeechBodySchema.safeParse(req.body);
    if (!parsed.success) throw new HttpProblem("invalid_request", { errors: zodErrors(parsed.error) });
    const body = parsed.data;

    const input = body.input.trim();
    if (input === "") throw invalidParam("input", "input must not be empty", "empty_input");
    const pieces = splitText(input, config.maxTextChars);
    for (const piece of pieces) {
      const checked = TextSchema.safeParse(piece);
      if (!checked.success) throw invalidParam("input", checked.error.issues[0]?.message ?? "input cannot be spoken", "unspeakable_input");
    }
    if (pieces.length === 0) throw invalidParam("input", "input must contain speakable characters (a letter or a digit)", "unspeakable_input");

    if (body.speed !== undefined && (body.speed < 0.5 || body.speed > 2)) {
      throw invalidParam("speed", `speed must be between 0.5 and 2.0 (CosyVoice's range; OpenAI's 0.25 to 4 is wider), got ${body.speed}`, "speed_out_of_range");
    }

    const owner = res.locals.clientKey;
    const [voices, info] = await Promise.all([speech.voices(owner), speech.info()]);
    const choice = chooseVoice(body.voice, voices, config.voiceAliases);
    if (!choice) {
      const asked = typeof body.voice === "string" ? body.voice : body.voice.id;
      throw invalidParam("voice", `Unknown voice ${JSON.stringify(asked.slice(0, 200))}. Voices you can use: ${usableVoicesText(voices, config.voiceAliases)}`, "voice_not_found");
    }

    const instructions = body.instructions?.trim() || undefined;
    if (instructions !== undefined) {
      const refusal = instructionsRefusal(info, choice.voice);
      if (refusal) throw invalidParam("instructions", `instructions cannot be followed: ${refusal}`, "instructions_unsupported");
      const checked = InstructSchema.safeParse(instructions);
      if (!checked.success) throw invalidParam("instructions", `instructions: ${checked.error.issues[0]?.message ?? "not usable"} (CosyVoice's instruct limit is 500 characters)`, "invalid_instructions");
    }

    const format = body.response_format ?? "mp3";
    // Last, after everything that can refuse cheaply, and before any GPU work: a refusal here
    // (every encoder busy) is safe to retry.
    const ticket = encoders.reserve("aac", format);
    res.once("close", () => ticket.release());
    plans.set(req, {
      job: {
        owner,
        voice: choice.voice.id,
        ...(instructions !== undefined ? { instruct: instructions } : {}),
        // Speed 1 is no change; leaving it out keeps the backend's streaming inference.
        ...(body.speed !== undefined && body.speed !== 1 ? { speed: body.speed } : {}),
      },
      pieces,
      format,
      sse: body.stream_format === "sse",
      info,
      ticket,
      inputChars: input.length,
    });
    next();
  }

  // The deadline covers every piece of the input, one job time each.
  function deadline(req: Request, res: Response, next: NextFunction): void {
    const pieces = plans.get(req)?.pieces.length ?? 1;
    upstreamDeadline({ ms: config.upstreamTimeoutMs * pieces, ...shutdown })(req, res, next);
  }

  async function run(req: Request, res: Response): Promise<void> {
    const p = plans.get(req);
    const signal = res.locals.signal;
    if (!p || !signal) throw new HttpProblem("internal");
    const lease = res.locals.lease;
    let first: AudioChunk | undefined;
    let samples = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (const text of p!.pieces) {
        for await (const chunk of speech.stream({ ...p!.job, text }, { signal: signal!, ...(lease ? { lease } : {}) })) {
          first ??= chunk;
          samples += adtsSamples(chunk.data);
          yield chunk.data;
        }
      }
    }
    // The encoder starts on the first next(), while the backend is still working on the first
    // chunk, so ffmpeg is up and waiting when it arrives.
    const encoded = p.ticket.encode(source(), { from: "aac", to: p.format, sampleRate: p.info.sampleRate ?? DEFAULT_RATE, signal });
    let finished = false;
    try {
      let next = await encoded.next();
      if (next.done) throw new HttpProblem("upstream", { detail: "The backend produced no audio" });
      const sourceRate = (first && adtsSampleRate(first.data)) ?? p.info.sampleRate ?? DEFAULT_RATE;
      const rate = FORMATS[p.format].outputRate(sourceRate);
      // setHeader, not res.set: Express would add a charset to text/event-stream.
      res.status(200).setHeader("Content-Type", p.sse ? "text/event-stream" : p.format === "pcm" ? pcmMimeType(rate) : FORMATS[p.format].mimeType);
      res.set({
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
        "X-Sample-Rate": String(rate),
      });
      while (!next.done) {
        const bytes = next.value;
        const ok = p.sse ? res.write(`data: ${JSON.stringify({ type: "speech.audio.delta", audio: Buffer.from(bytes).toString("base64") })}\n\n`) : res.write(bytes);
        if (!ok) await once(res, "drain", { signal });
        next = await encoded.next();
      }
      finished = true;
      if (p.sse) {
        const outputTokens = Math.round((samples / sourceRate) * SPEECH_TOKENS_PER_SECOND);
        const usage = { input_tokens: p.inputChars, output_tokens: outputTokens, total_tokens: p.inputChars + outputTokens };
        res.write(`data: ${JSON.stringify({ type: "speech.audio.done", usage })}\n\n`);
      }
      res.end();
    } catch (err) {
      // Our own abort comes back from the SDK as AbortError; the signal's reason says why.
      throw signal.aborted ? signal.reason : err;
    } finally {
      if (!finished) await encoded.return(undefined).catch(() => undefined);
    }
  }

  return [
    ctx.guards.auth,
    ctx.guards.synthesizeLimit,
    jsonBody({ maxBytes: Math.max(config.maxJsonBytes, MIN_JSON_BYTES) }),
    plan,
    deadline,
    concurrencyCap({ pool: ctx.deps.backend }),
    run,
  ];
}
