/**
 * What a frontend can offer, from what the gateway knows of its backends: the modes, the
 * cross-lingual language tags, the instruct controls and the built-in speakers. Pure: backend
 * descriptions in, the `GET /capabilities` body out.
 */
import { DIALECTS, INSTRUCT_PHRASES, MAX_TEXT_CHARS, MODES, SeedSchema, SpeedSchema, type Mode } from "cosyvoice3-sdk";
import type { BoxInfo } from "../backends/port.ts";
import { z } from "zod";
import { AUDIO_FORMATS } from "./encode/formats.ts";
import { SYNTHESIS_OFFERS } from "../platform/http/negotiate.ts";
import { BUILTIN_PREFIX } from "../platform/ids.ts";
import { LANGUAGE_TAGS } from "../doors/rest/schemas.ts";

// The limits are values inside the request schemas' own ranges.
const speedValue = () => z.number().min(SpeedSchema.minValue ?? 0.5).max(SpeedSchema.maxValue ?? 2);
const seedValue = () => z.number().int().min(SeedSchema.minValue ?? 0).max(SeedSchema.maxValue ?? 4_294_967_295);

const controlValues = <K extends keyof typeof INSTRUCT_PHRASES>(k: K) => Object.keys(INSTRUCT_PHRASES[k]) as (keyof (typeof INSTRUCT_PHRASES)[K] & string)[];

export const CapabilitiesSchema = z
  .object({
    backend: z
      .object({ variant: z.string(), model: z.string() })
      .describe("The UI variant and model the modes below come from (the first ready backend)"),
    modes: z.array(z.enum(MODES)).describe("The `mode` values POST /synthesize accepts now"),
    voices: z.object({
      builtin: z.array(z.string()).describe("Built-in speakers as voice ids (`builtin:<name>`); CosyVoice2/3 models have none"),
      saved: z.boolean().describe("Whether voices saved with POST /voices can be used (clone, crossLingual, instruct with prompt audio)"),
    }),
    modeVoices: z
      .partialRecord(z.enum(MODES), z.array(z.enum(["builtin", "cloned"])))
      .describe("For each available mode, the voice kinds it takes; `clone` also needs a voice saved with promptText"),
    languages: z
      .array(z.object({ tag: z.string().describe("Put it before the text it applies to, e.g. `<|en|>Hello.`"), code: z.string(), name: z.string() }))
      .describe("Language tags a text may carry (cross-lingual); empty when crossLingual is unavailable"),
    instruct: z
      .object({
        voice: z.enum(["builtin", "cloned"]).describe("The kind of voice instruct mode takes on this backend"),
        freeText: z.boolean().describe("Whether `instruct` may be free text"),
        controls: z
          .object({
            dialect: z.array(z.string()),
            emotion: z.array(z.string()),
            volume: z.array(z.string()),
            pace: z.array(z.string()),
            role: z.array(z.string()),
          })
          .partial()
          .describe("Allowed values of each typed control of `instruct` (empty on CosyVoice 1, which takes free text only)"),
        dialectNames: z.record(z.string(), z.string()).describe("Each dialect's Chinese name, as the instruction says it"),
      })
      .nullable()
      .describe("Instruct mode's options, or null when this backend has no instruct mode"),
    limits: z.object({
      textMaxChars: z.number().int().min(1).max(MAX_TEXT_CHARS),
      speed: z.object({ min: speedValue(), max: speedValue(), default: speedValue() }).describe("Speaking speed factor"),
      seed: z.object({ min: seedValue(), max: seedValue(), default: seedValue() }),
    }),
    responses: z
      .array(
        z.object({
          type: z.string(),
          stream: z.boolean(),
          description: z.string(),
          audioFormat: z.enum(AUDIO_FORMATS).optional().describe("The body's `format` that asks for this streamed answer"),
        }),
      )
      .describe("What POST /synthesize can answer, chosen by `Accept` (or `stream`)"),
  })
  .describe("What this gateway and its backend can do now, for a frontend to build its controls from");
export type Capabilities = z.infer<typeof CapabilitiesSchema>;

/**
 * The capabilities of a set of backends (the union of their modes; the first one's speakers,
 * as voices follow the first ready backend).
 * @example capabilitiesOf([gradioInfo({ variant: "cv3-en", model: "cosyvoice3", modes: ["clone", "crossLingual", "instruct"], speakers: [], gradioVersion: "5.4.0" })], { maxTextChars: 2000 }).instruct?.voice // "cloned"
 */
export function capabilitiesOf(infos: readonly Pick<BoxInfo, "variant" | "model" | "modes" | "speakers" | "instructNeeds" | "gradioVersion" | "sampleRate">[], limits: { maxTextChars: number }): Capabilities {
  const [first] = infos;
  if (!first) throw new Error("capabilitiesOf needs at least one backend");
  const available = new Set(infos.flatMap((i) => i.modes));
  const modes = MODES.filter((m) => available.has(m));
  const speakers = first.speakers.filter((s) => s !== "");
  // CosyVoice 1 instruct models take a built-in speaker and free text; CosyVoice2/3 (instruct2)
  // take prompt audio and the CosyVoice3 controls: each box says which (`instructNeeds`).
  const cv1 = first.instructNeeds === "voice" || (first.instructNeeds === undefined && first.model === "cosyvoice1");
  const modeVoices: Partial<Record<Mode, ("builtin" | "cloned")[]>> = {};
  for (const m of modes) modeVoices[m] = m === "pretrained" || (m === "instruct" && cv1) ? ["builtin"] : ["cloned"];
  return {
    backend: { variant: first.variant, model: first.model },
    modes,
    voices: { builtin: speakers.map((s) => BUILTIN_PREFIX + s), saved: modes.some((m) => m !== "pretrained") },
    modeVoices,
    languages: available.has("crossLingual")
      ? Object.entries(LANGUAGE_TAGS).map(([code, name]) => ({ tag: `<|${code}|>`, code, name }))
      : [],
    instruct: available.has("instruct")
      ? {
          voice: cv1 ? "builtin" : "cloned",
          freeText: true,
          controls: cv1
            ? {}
            : {
                dialect: Object.keys(DIALECTS),
                emotion: controlValues("emotion"),
                volume: controlValues("volume"),
                pace: controlValues("pace"),
                role: controlValues("role"),
              },
          dialectNames: cv1 ? {} : { ...DIALECTS },
        }
      : null,
    limits: {
      textMaxChars: limits.maxTextChars,
      speed: { min: SpeedSchema.minValue ?? 0.5, max: SpeedSchema.maxValue ?? 2, default: 1 },
      seed: { min: SeedSchema.minValue ?? 0, max: SeedSchema.maxValue ?? 4_294_967_295, default: 0 },
    },
    responses: SYNTHESIS_OFFERS.map((o) => ({ ...o })),
  };
}
