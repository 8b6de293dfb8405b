/**
 * The known CosyVoice web UI variants, as data. Recognition, request mapping and mode checks all
 * read this table; adding a third variant is one new entry in {@link VARIANTS}.
 */
import type { Mode } from "../schemas.ts";
import type { ModelFamily, VariantName } from "../types.ts";

/** What one `/generate_audio` parameter means, independent of its label or language. */
export type ParamRole =
  | "text"
  | "mode"
  | "speaker"
  | "promptText"
  | "promptAudio"
  | "promptRecord"
  | "instructText"
  | "seed"
  | "stream"
  | "speed";

/** The Gradio component type each role must have in `/config` (lower-case, as Gradio writes it). */
export const ROLE_COMPONENT: Record<ParamRole, string> = {
  text: "textbox",
  mode: "radio",
  speaker: "dropdown",
  promptText: "textbox",
  promptAudio: "audio",
  promptRecord: "audio",
  instructText: "textbox",
  seed: "number",
  stream: "radio",
  speed: "number",
};

/** How the instruct text is written for a model family. */
export type InstructStyle =
  /** CosyVoice3: `You are a helpful assistant. <instruction><|endofprompt|>` (typed controls allowed). */
  | "cv3"
  /** CosyVoice 1 Instruct: free text as is; the model's frontend appends its own end marker. */
  | "plain";

/** What one variant can do with one model family. */
export interface ModelSupport {
  modes: readonly Mode[];
  /** Why each missing mode is missing, for {@link UnsupportedModeError}. */
  unsupported: Partial<Record<Mode, string>>;
  instructStyle: InstructStyle;
  /** Instruct on this variant+model takes a prompt audio (cv3-en) or a built-in voice (official CV1). */
  instructNeeds?: "promptAudio" | "voice";
  /** The model needs `You are a helpful assistant.<|endofprompt|>` before zero-shot prompt text and cross-lingual text. */
  needsCv3Prefix: boolean;
}

/** One web UI variant. */
export interface VariantSpec {
  name: VariantName;
  /** `api_name` of the synthesis dependency. */
  endpoint: string;
  /** Parameter order of the endpoint. */
  params: readonly ParamRole[];
  /** The mode radio's value for each mode the UI offers. */
  modeLabels: Partial<Record<Mode, string>>;
  /** The stream radio's choices as `[label, value]`; the value is what is sent. */
  streamChoices: { off: readonly [string, unknown]; on: readonly [string, unknown] };
  /** The UI adds `You are a helpful assistant.<|endofprompt|>` to zero-shot prompt text and cross-lingual text itself. */
  addsCv3Prefix: boolean;
  /** Speed Number bounds the UI declares (older UIs had a 0.25..4 `speed_factor` slider). */
  speedRange: readonly [number, number];
  models: Partial<Record<ModelFamily, ModelSupport>>;
}

const NO_INSTRUCT_V2 =
  "the official UI calls inference_instruct, which only CosyVoice 1 Instruct models have; use the cv3-en UI for CosyVoice3 instruct";
const NO_SPEAKERS = "the official UI's pretrained mode needs built-in speakers, which CosyVoice2/3 models do not have";

/** The table. Order matters only for error messages. */
export const VARIANTS: readonly VariantSpec[] = [
  {
    name: "official",
    endpoint: "generate_audio",
    params: [
      "text",
      "mode",
      "speaker",
      "promptText",
      "promptAudio",
      "promptRecord",
      "instructText",
      "seed",
      "stream",
      "speed",
    ],
    modeLabels: { pretrained: "预训练音色", clone: "3s极速复刻", crossLingual: "跨语种复刻", instruct: "自然语言控制" },
    streamChoices: { off: ["否", false], on: ["是", true] },
    addsCv3Prefix: false,
    speedRange: [0.5, 2],
    models: {
      cosyvoice1: {
        modes: ["pretrained", "clone", "crossLingual", "instruct"],
        unsupported: {},
        instructStyle: "plain",
        instructNeeds: "voice",
        needsCv3Prefix: false,
      },
      cosyvoice2: {
        modes: ["clone", "crossLingual"],
        unsupported: { instruct: NO_INSTRUCT_V2, pretrained: NO_SPEAKERS },
        instructStyle: "cv3",
        needsCv3Prefix: false,
      },
      cosyvoice3: {
        modes: ["clone", "crossLingual"],
        unsupported: { instruct: NO_INSTRUCT_V2, pretrained: NO_SPEAKERS },
        instructStyle: "cv3",
        needsCv3Prefix: true,
      },
    },
  },
  {
    name: "cv3-en",
    endpoint: "generate_audio",
    params: ["text", "mode", "promptText", "promptAudio", "promptRecord", "instructText", "seed", "stream", "speed"],
    modeLabels: { clone: "3s Zero-Shot", crossLingual: "Cross-Lingual", instruct: "Instruct" },
    streamChoices: { off: ["No", false], on: ["Yes", true] },
    addsCv3Prefix: true,
    speedRange: [0.5, 2],
    models: {
      cosyvoice3: {
        modes: ["clone", "crossLingual", "instruct"],
        unsupported: { pretrained: "the cv3-en UI has no built-in speakers (no speaker dropdown)" },
        instructStyle: "cv3",
        instructNeeds: "promptAudio",
        needsCv3Prefix: true,
      },
    },
  },
];

/** Modes that need built-in speakers: unavailable when the UI's speaker list is empty. */
export function modeNeedsSpeakers(spec: VariantSpec, support: ModelSupport, mode: Mode): boolean {
  return mode === "pretrained" || (mode === "instruct" && support.instructNeeds === "voice" && spec.params.includes("speaker"));
}

/** The modes a variant+model can run given the speakers the UI lists. */
export function availableModes(spec: VariantSpec, support: ModelSupport, speakers: readonly string[]): Mode[] {
  return support.modes.filter((m) => speakers.length > 0 || !modeNeedsSpeakers(spec, support, m));
}

/** Output sample rate of each model family: the hint that tells CosyVoice 1 from 2/3 after a synthesis. @unit hertz */
export const MODEL_SAMPLE_RATE: Record<ModelFamily, number> = {
  cosyvoice1: 22_050,
  cosyvoice2: 24_000,
  cosyvoice3: 24_000,
};
