/**
 * The one set of zod schemas for what a synthesis request is. The SDK validates with them, the
 * gateway builds its REST bodies from the same pieces, and `openapi.yaml` is generated from them.
 */
import { z } from "zod";

/** Synthesis modes, named for what they do (the UIs' own labels live in the variant table). */
export const MODES = ["pretrained", "clone", "crossLingual", "instruct"] as const;
export const ModeSchema = z.enum(MODES).describe("Synthesis mode");
export type Mode = z.infer<typeof ModeSchema>;

/** Longest text accepted for one synthesis call. @unit characters */
export const MAX_TEXT_CHARS = 2000;

/** A UTF-16 surrogate without its partner: a JSON `\ud800` escape lets one through; no encoder can send it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/**
 * A letter or a digit. CosyVoice's text frontend drops every segment made only of punctuation
 * and symbols (its `is_only_punctuation`), so text without one gives the model nothing to say
 * and fails there instead of here.
 */
const SPEAKABLE = /[\p{L}\p{N}]/u;

/**
 * Text to synthesize: trimmed, 1 to {@link MAX_TEXT_CHARS} characters (UTF-16 code units),
 * well-formed Unicode, with at least one letter or digit.
 * @example TextSchema.safeParse("\u0000\u0001").success // false: "text must contain speakable characters"
 */
export const TextSchema = z
  .string()
  .trim()
  .min(1, "text must not be empty")
  .max(MAX_TEXT_CHARS, `text must be at most ${MAX_TEXT_CHARS} characters`)
  // Empty text already has its own message; these two speak only about text that is there.
  .refine((t) => !LONE_SURROGATE.test(t), { message: "text must be well-formed Unicode" })
  .refine((t) => t.length === 0 || SPEAKABLE.test(t), { message: "text must contain speakable characters" })
  .describe(
    "Text to speak: well-formed Unicode with at least one letter or digit. May carry CosyVoice3 tags such as [breath], <strong>..</strong>, <|en|>.",
  );

/**
 * The transcript of a prompt audio: trimmed, 1 to 500 characters, well-formed Unicode (a lone
 * surrogate reaches the model's tokenizer and fails there, as with {@link TextSchema}).
 */
export const PromptTextSchema = z
  .string()
  .trim()
  .min(1, "promptText is required")
  .max(500)
  .refine((t) => !LONE_SURROGATE.test(t), { message: "promptText must be well-formed Unicode" })
  .describe("Transcript of the prompt audio");

const blankAsAbsent = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);

/**
 * An optional {@link PromptTextSchema}: an empty or blank string means absent, as a form's empty
 * field does (browsers send every field of a form).
 * @example OptionalPromptTextSchema.parse("") // undefined
 */
export const OptionalPromptTextSchema = z.preprocess(blankAsAbsent, PromptTextSchema.optional());

/** The UI's speed Number has minimum 0.5 and maximum 2.0; speed only affects non-streaming inference. */
export const SpeedSchema = z.number().min(0.5).max(2).describe("Speaking speed factor, 0.5 to 2.0 (default 1)");

/** numpy's seed must be an integer in [0, 2^32). A float makes the UI's seed call fail. */
export const SeedSchema = z
  .number()
  .int("seed must be an integer")
  .min(0)
  .max(4_294_967_295)
  .describe("Random seed; output is reproducible only with a fixed seed (default 0)");

/** The dialects CosyVoice3 was trained on (design note, section 4), English key -> Chinese name. */
export const DIALECTS = {
  cantonese: "广东话",
  dongbei: "东北话",
  gansu: "甘肃话",
  guizhou: "贵州话",
  henan: "河南话",
  hubei: "湖北话",
  hunan: "湖南话",
  jiangxi: "江西话",
  minnan: "闽南话",
  ningxia: "宁夏话",
  shanxi: "山西话",
  shaanxi: "陕西话",
  shandong: "山东话",
  shanghai: "上海话",
  sichuan: "四川话",
  tianjin: "天津话",
  yunnan: "云南话",
} as const;
export type Dialect = keyof typeof DIALECTS;

export const INSTRUCT_PHRASES = {
  emotion: { happy: "请非常开心地说一句话。", sad: "请非常伤心地说一句话。", angry: "请非常生气地说一句话。" },
  volume: { loud: "Please say a sentence as loudly as possible.", soft: "Please say a sentence in a very soft voice." },
  pace: { slow: "请用尽可能慢地语速说一句话。", fast: "请用尽可能快地语速说一句话。" },
  role: { peppaPig: "我想体验一下小猪佩奇风格，可以吗？", robot: "你可以尝试用机器人的方式解答吗？" },
} as const;

export const InstructControlsSchema = z
  .object({
    dialect: z.enum(Object.keys(DIALECTS) as [Dialect, ...Dialect[]]).optional(),
    emotion: z.enum(["happy", "sad", "angry"]).optional(),
    volume: z.enum(["loud", "soft"]).optional(),
    pace: z.enum(["slow", "fast"]).optional(),
    role: z.enum(["peppaPig", "robot"]).optional(),
  })
  .strict()
  .refine((c) => Object.values(c).some((v) => v !== undefined), { message: "at least one control is required" })
  .describe("Typed CosyVoice3 instruct controls, turned into the instruction sentence");
export type InstructControls = z.infer<typeof InstructControlsSchema>;

export const InstructSchema = z
  .union([
    z
      .string()
      .trim()
      .min(1, "instruct must not be empty")
      .max(500)
      .refine((t) => !LONE_SURROGATE.test(t), { message: "instruct must be well-formed Unicode" }),
    InstructControlsSchema,
  ])
  .describe("Free-text instruction, or typed controls");
export type Instruct = z.infer<typeof InstructSchema>;

export const END_OF_PROMPT = "<|endofprompt|>";
export const CV3_PREFIX = "You are a helpful assistant.<|endofprompt|>";

/**
 * Turns free text or typed controls into the CosyVoice3 instruction sentence,
 * `You are a helpful assistant. <phrases><|endofprompt|>`.
 * @example buildInstruction({ dialect: "sichuan" }) // "You are a helpful assistant. 请用四川话表达。<|endofprompt|>"
 */
export function buildInstruction(instruct: Instruct): string {
  let body: string;
  if (typeof instruct === "string") {
    if (instruct.includes(END_OF_PROMPT)) return instruct;
    body = instruct;
  } else {
    const parts: string[] = [];
    if (instruct.dialect) parts.push(`请用${DIALECTS[instruct.dialect]}表达。`);
    if (instruct.emotion) parts.push(INSTRUCT_PHRASES.emotion[instruct.emotion]);
    if (instruct.volume) parts.push(INSTRUCT_PHRASES.volume[instruct.volume]);
    if (instruct.pace) parts.push(INSTRUCT_PHRASES.pace[instruct.pace]);
    if (instruct.role) parts.push(INSTRUCT_PHRASES.role[instruct.role]);
    body = parts.join("");
  }
  return `You are a helpful assistant. ${body}${END_OF_PROMPT}`;
}

/**
 * Prompt audio as the SDK accepts it, each kind explicit:
 * - bytes: a `Uint8Array`, a `Blob`/`File`, or `{ data, name?, mimeType? }`;
 * - `{ path }`: a local file the SDK reads;
 * - `{ url }`: an http(s) URL the SDK fetches.
 *
 * A bare string is refused: whether `"voice.wav"` is a local path or `"http://..."` a request to
 * any host must not be decided by what a user typed.
 */
export type AudioInput =
  | Uint8Array
  | Blob
  | { data: Uint8Array | Blob; name?: string; mimeType?: string }
  | { path: string }
  | { url: string | URL };

const isBytes = (v: unknown) => v instanceof Uint8Array || (typeof Blob !== "undefined" && v instanceof Blob);
const hasKey = (v: unknown, key: string): v is Record<string, unknown> => typeof v === "object" && v !== null && key in v;

/** Why `v` is not an {@link AudioInput} (code, message), or undefined when it is one. */
function audioInputProblem(v: unknown): [string, string] | undefined {
  const m = problemMessage(v);
  if (m === undefined) return undefined;
  return [typeof v === "string" ? "bare_string" : v instanceof URL ? "bare_url" : "invalid_audio_input", m];
}

function problemMessage(v: unknown): string | undefined {
  if (isBytes(v)) return undefined;
  if (typeof v === "string") {
    return "promptAudio must not be a bare string (a local path and a URL look alike); pass { path: \"...\" } to read a file, { url: \"https://...\" } to fetch one, or the bytes";
  }
  if (v instanceof URL) return "promptAudio must not be a bare URL; pass { url } to fetch it or { path } for a local file";
  if (hasKey(v, "data")) return isBytes(v["data"]) ? undefined : "promptAudio.data must be a Uint8Array or a Blob";
  if (hasKey(v, "path")) return typeof v["path"] === "string" && v["path"] !== "" ? undefined : "promptAudio.path must be a non-empty string";
  if (hasKey(v, "url")) {
    const u = v["url"];
    let parsed: URL | undefined;
    try {
      parsed = u instanceof URL ? u : typeof u === "string" ? new URL(u) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed) return "promptAudio.url must be an absolute http(s) URL";
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      return `promptAudio.url must be http(s), got ${parsed.protocol} (use { path } for a local file)`;
    }
    return undefined;
  }
  return "promptAudio must be bytes (Uint8Array, Blob, { data }), { path } or { url }";
}

export const AudioInputSchema = z
  .custom<AudioInput>()
  .superRefine((v, ctx) => {
    const problem = audioInputProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem[1], params: { code: problem[0] } });
  });

const common = {
  text: TextSchema,
  speed: SpeedSchema.optional(),
  seed: SeedSchema.optional(),
};

export const PretrainedRequestSchema = z.object({
  mode: z.literal("pretrained"),
  ...common,
  voice: z.string().min(1, "voice is required").describe("A built-in speaker of the UI"),
});
export const CloneRequestSchema = z.object({
  mode: z.literal("clone"),
  ...common,
  promptAudio: AudioInputSchema,
  promptText: PromptTextSchema,
});
export const CrossLingualRequestSchema = z.object({
  mode: z.literal("crossLingual"),
  ...common,
  promptAudio: AudioInputSchema,
});
export const InstructRequestSchema = z.object({
  mode: z.literal("instruct"),
  ...common,
  instruct: InstructSchema,
  promptAudio: AudioInputSchema.optional(),
  voice: z.preprocess(blankAsAbsent, z.string().min(1).optional()),
});

/** A synthesis request: a discriminated union on `mode`. */
export const SynthesisRequestSchema = z.discriminatedUnion("mode", [
  PretrainedRequestSchema,
  CloneRequestSchema,
  CrossLingualRequestSchema,
  InstructRequestSchema,
]);
export type SynthesisRequest = z.input<typeof SynthesisRequestSchema>;
export type PretrainedRequest = z.input<typeof PretrainedRequestSchema>;
export type CloneRequest = z.input<typeof CloneRequestSchema>;
export type CrossLingualRequest = z.input<typeof CrossLingualRequestSchema>;
export type InstructRequest = z.input<typeof InstructRequestSchema>;

/** Prompt audio limits the UIs state and check. */
export const PROMPT_LIMITS = {
  /** @unit hertz */
  minSampleRate: 16_000,
  /** @unit milliseconds */
  maxDurationMs: 30_000,
} as const;
