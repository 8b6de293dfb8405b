/**
 * The two things the CLI talks to: a gateway (through the typed REST client) or a CosyVoice web
 * UI directly (through the SDK). Each turns one command into calls and reports progress; the
 * program around them handles flags, output files, errors and Ctrl-C.
 */
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { AUDIO_FORMATS, createClient, unwrap, type CosyVoiceClient, type InstructControls, type Mode, type Voice } from "cosyvoice3-client";
import { CosyVoice, type ModelFamily, type Progress, type SynthesisRequest } from "cosyvoice3-sdk";
import { AdtsCounter } from "./adts.ts";
import { CliError, EXIT } from "./exit-codes.ts";
import type { AudioOutput } from "./output.ts";
import type { ProgressReporter } from "./progress.ts";

/**
 * Formats `say` can write: the gateway's, from `openapi.yaml` through the typed client (one list,
 * the gateway's `encode/formats.ts`). Straight at a UI only {@link UI_FORMATS}.
 */
export const FORMATS = AUDIO_FORMATS;
export type Format = (typeof FORMATS)[number];
/** What a CosyVoice web UI itself gives: the whole clip as WAV, or its streamed AAC. */
export const UI_FORMATS: readonly Format[] = ["wav", "aac"];

/** What `say` was asked for, after flag parsing. */
export interface SayInput {
  text: string;
  /** A gateway voice id or name; straight at a UI, a built-in speaker. */
  voice?: string;
  mode?: Mode;
  instruct?: string | InstructControls;
  speed?: number;
  seed?: number;
  format: Format;
  /** Straight at a UI only. */
  promptAudio?: string;
  promptText?: string;
}

/** What `say` produced. */
export interface SayResult {
  mimeType: string;
  /** @unit milliseconds */
  durationMs: number;
  bytes: number;
  /** The gateway's audio id and url (through a gateway). */
  audioId?: string;
  url?: string;
  voice?: string;
  mode?: string;
  chunks?: number;
}

/** One call's context. */
export interface CallContext {
  signal: AbortSignal;
  progress: ProgressReporter;
}

/** A voice as `voices` prints it. */
export interface VoiceRow {
  id: string;
  name: string;
  kind: string;
  promptText?: string;
}

export interface Target {
  readonly label: string;
  say(input: SayInput, out: AudioOutput, ctx: CallContext): Promise<SayResult>;
  voices(ctx: CallContext): Promise<VoiceRow[]>;
  clone(input: { file: string; name: string; promptText?: string }, ctx: CallContext): Promise<Voice>;
  remove(id: string, ctx: CallContext): Promise<void>;
  close(): Promise<void>;
}

async function readAll(body: ReadableStream<Uint8Array>, each: (bytes: Uint8Array) => Promise<void>): Promise<void> {
  const reader = body.getReader();
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) await each(r.value);
  } finally {
    reader.releaseLock();
  }
}

/** A gateway, through cosyvoice3-client. */
export class GatewayTarget implements Target {
  readonly api: CosyVoiceClient;
  constructor(
    readonly label: string,
    apiKey: string | undefined,
  ) {
    this.api = createClient({ baseUrl: label, ...(apiKey ? { apiKey } : {}) });
  }

  /** A voice id as given, or the one saved voice with this name. */
  private async resolveVoice(voice: string | undefined, signal: AbortSignal): Promise<string> {
    if (voice === undefined) throw new CliError("--voice is required with a gateway: an id or name from `cosyvoice voices`", EXIT.usage);
    if (/^(v_|builtin:)/.test(voice)) return voice;
    const { voices } = unwrap(await this.api.GET("/voices", { signal }));
    const named = voices.filter((v) => v.name.toLowerCase() === voice.toLowerCase());
    if (named.length === 1) return named[0]!.id;
    if (named.length > 1) throw new CliError(`${named.length} voices are named ${JSON.stringify(voice)}; use an id: ${named.map((v) => v.id).join(", ")}`, EXIT.input);
    throw new CliError(`no voice with id or name ${JSON.stringify(voice)} (see \`cosyvoice voices\`)`, EXIT.notFound);
  }

  async say(input: SayInput, out: AudioOutput, { signal, progress }: CallContext): Promise<SayResult> {
    if (input.promptAudio !== undefined) throw new CliError("--prompt-audio goes with --ui; through a gateway save the voice first (`cosyvoice clone FILE`)", EXIT.usage);
    const voice = await this.resolveVoice(input.voice, signal);
    const body = {
      text: input.text,
      voice,
      ...(input.mode ? { mode: input.mode } : {}),
      ...(input.instruct !== undefined ? { instruct: input.instruct } : {}),
      ...(input.speed !== undefined ? { speed: input.speed } : {}),
      ...(input.seed !== undefined ? { seed: input.seed } : {}),
    };
    progress.update({ kind: "waiting", detail: `${this.label} is generating` });
    if (input.format === "aac") {
      const s = await this.api.streamSynthesis(body, { signal });
      progress.update({ kind: "started" });
      const counter = new AdtsCounter();
      await readAll(s.body, async (bytes) => {
        counter.push(bytes);
        await out.write(bytes);
        progress.update({ kind: "received", durationMs: counter.durationMs, bytes: out.bytes });
      });
      return { mimeType: s.mimeType, durationMs: Math.round(counter.durationMs), bytes: out.bytes, audioId: s.audioId, url: s.url, voice };
    }
    // wav is the stored clip itself; another format is the stored clip converted by the gateway.
    const format = input.format === "wav" ? undefined : input.format;
    const clip = await this.api.synthesize({ ...body, ...(format ? { format } : {}) }, { signal });
    progress.update({ kind: "waiting", detail: `downloading ${clip.url}` });
    const audio = await this.api.GET("/audio/{id}", { params: { path: { id: clip.id }, ...(format ? { query: { format } } : {}) }, parseAs: "stream", signal });
    const stream = unwrap(audio);
    if (!stream) throw new CliError(`the gateway sent no audio for ${clip.url}`, EXIT.upstream);
    await readAll(stream, (bytes) => out.write(bytes));
    return { mimeType: clip.mimeType, durationMs: clip.durationMs, bytes: out.bytes, audioId: clip.id, url: clip.url, voice, mode: clip.mode, chunks: clip.chunks };
  }

  async voices({ signal }: CallContext): Promise<VoiceRow[]> {
    const { voices } = unwrap(await this.api.GET("/voices", { signal }));
    return voices.map((v) => ({ id: v.id, name: v.name, kind: v.kind, ...(v.promptText !== undefined ? { promptText: v.promptText } : {}) }));
  }

  async clone(input: { file: string; name: string; promptText?: string }, { signal, progress }: CallContext): Promise<Voice> {
    const audio = await readFile(input.file);
    progress.update({ kind: "waiting", detail: `uploading ${basename(input.file)} to ${this.label}` });
    return this.api.saveVoice(
      { audio, name: input.name, filename: basename(input.file), ...(input.promptText !== undefined ? { promptText: input.promptText } : {}) },
      { signal },
    );
  }

  async remove(id: string, { signal }: CallContext): Promise<void> {
    unwrap(await this.api.DELETE("/voices/{id}", { params: { path: { id } }, signal }));
  }

  async close(): Promise<void> {}
}

/** Options of {@link UiTarget}. */
export interface UiTargetOptions {
  model: ModelFamily;
  /** @unit milliseconds */
  timeoutMs?: number;
}

/** A CosyVoice web UI, straight through the SDK. */
export class UiTarget implements Target {
  private cv: CosyVoice | undefined;
  constructor(
    readonly label: string,
    private readonly options: UiTargetOptions,
  ) {}

  private async connect(progress: ProgressReporter): Promise<CosyVoice> {
    if (!this.cv) {
      progress.update({ kind: "waiting", detail: `connecting to ${this.label}` });
      this.cv = await CosyVoice.connect(this.label, { model: this.options.model, ...(this.options.timeoutMs ? { timeoutMs: this.options.timeoutMs } : {}) });
    }
    return this.cv;
  }

  private async request(input: SayInput, cv: CosyVoice): Promise<SynthesisRequest> {
    const common = {
      text: input.text,
      ...(input.speed !== undefined ? { speed: input.speed } : {}),
      ...(input.seed !== undefined ? { seed: input.seed } : {}),
    };
    const promptAudio = input.promptAudio !== undefined ? { data: new Uint8Array(await readFile(input.promptAudio)), name: basename(input.promptAudio) } : undefined;
    const mode: Mode =
      input.mode ??
      (input.instruct !== undefined ? "instruct" : promptAudio === undefined && input.voice !== undefined ? "pretrained" : input.promptText !== undefined ? "clone" : "crossLingual");
    if (mode === "pretrained") {
      if (input.voice === undefined) throw new CliError(`--voice (a built-in speaker: ${cv.backend.speakers.join(", ") || "this UI has none"}) is required for pretrained mode`, EXIT.usage);
      return { mode, voice: input.voice, ...common };
    }
    if (mode === "instruct") {
      if (input.instruct === undefined) throw new CliError("instruct mode needs --instruct TEXT or a typed control (--dialect, --emotion, --pace, --volume, --role)", EXIT.usage);
      return { mode, instruct: input.instruct, ...(promptAudio ? { promptAudio } : {}), ...(input.voice !== undefined ? { voice: input.voice } : {}), ...common };
    }
    if (!promptAudio) throw new CliError("--prompt-audio FILE is required with --ui (clone and cross-lingual modes)", EXIT.usage);
    if (mode === "clone") {
      if (input.promptText === undefined) throw new CliError("--prompt-text (what the prompt audio says) is required for clone mode", EXIT.usage);
      return { mode, promptAudio, promptText: input.promptText, ...common };
    }
    return { mode, promptAudio, ...common };
  }

  async say(input: SayInput, out: AudioOutput, { signal, progress }: CallContext): Promise<SayResult> {
    if (!UI_FORMATS.includes(input.format)) {
      throw new CliError(`--format ${input.format} needs a gateway (it converts the audio); a web UI gives ${UI_FORMATS.join(" or ")}`, EXIT.usage);
    }
    const cv = await this.connect(progress);
    const request = await this.request(input, cv);
    const onProgress = (p: Progress) => {
      if (p.stage === "queued") progress.update({ kind: "queued", position: p.position, queueSize: p.queueSize, ...(p.etaMs !== undefined ? { etaMs: p.etaMs } : {}) });
      else if (p.stage === "started") progress.update({ kind: "started" });
      else progress.update({ kind: "chunk", index: p.index, durationMs: p.durationMs });
    };
    if (input.format === "aac") {
      let durationMs = 0;
      let chunks = 0;
      for await (const chunk of cv.stream(request, { signal, onProgress })) {
        await out.write(chunk.data);
        durationMs += chunk.durationMs;
        chunks++;
      }
      return { mimeType: "audio/aac", durationMs: Math.round(durationMs), bytes: out.bytes, mode: request.mode, chunks };
    }
    const result = await cv.synthesize(request, { signal, onProgress });
    await out.write(result.audio);
    return { mimeType: result.mimeType, durationMs: Math.round(result.durationMs), bytes: out.bytes, mode: request.mode, chunks: result.chunks };
  }

  async voices({ progress }: CallContext): Promise<VoiceRow[]> {
    const cv = await this.connect(progress);
    return (await cv.listVoices()).filter((s) => s !== "").map((s) => ({ id: s, name: s, kind: "builtin" }));
  }

  async clone(): Promise<Voice> {
    throw new CliError("clone saves a voice on a gateway (--gateway); straight at a UI pass the prompt to `say` with --prompt-audio and --prompt-text", EXIT.usage);
  }

  async remove(): Promise<void> {
    throw new CliError("rm deletes a voice saved on a gateway (--gateway); a UI has no saved voices", EXIT.usage);
  }

  async close(): Promise<void> {
    await this.cv?.close();
  }
}
