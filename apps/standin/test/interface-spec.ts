/**
 * Section 1 of docs/design/cosyvoice-webui.md as data: the parameter lists of /generate_audio
 * in both real UIs, which the stand-in must reproduce exactly.
 */

export interface ParamSpec {
  name: string;
  component: "Textbox" | "Radio" | "Dropdown" | "Audio" | "Number";
  label: string;
  /** `undefined` = no default in /info (parameter_has_default false). */
  default?: unknown;
  /** Radio/Dropdown choices as [display, value]. */
  choices?: [string, unknown][];
}

const OFFICIAL_MODES = ["预训练音色", "3s极速复刻", "跨语种复刻", "自然语言控制"];
const CV3EN_MODES = ["3s Zero-Shot", "Cross-Lingual", "Instruct"];
export const COSYVOICE1_SPEAKERS = ["中文女", "中文男", "日语男", "粤语女", "英文女", "英文男", "韩语女"];

export function officialParams(speakers: string[]): ParamSpec[] {
  return [
    {
      name: "tts_text",
      component: "Textbox",
      label: "输入合成文本",
      default: "我是通义实验室语音团队全新推出的生成式语音大模型，提供舒适自然的语音合成能力。",
    },
    { name: "mode_checkbox_group", component: "Radio", label: "选择推理模式", default: "预训练音色", choices: OFFICIAL_MODES.map((m) => [m, m]) },
    { name: "sft_dropdown", component: "Dropdown", label: "选择预训练音色", default: speakers[0], choices: speakers.map((s) => [s, s]) },
    { name: "prompt_text", component: "Textbox", label: "输入prompt文本", default: "" },
    { name: "prompt_wav_upload", component: "Audio", label: "选择prompt音频文件，注意采样率不低于16khz" },
    { name: "prompt_wav_record", component: "Audio", label: "录制prompt音频文件" },
    { name: "instruct_text", component: "Textbox", label: "输入instruct文本", default: "" },
    { name: "seed", component: "Number", label: "随机推理种子", default: 0 },
    { name: "stream", component: "Radio", label: "是否流式推理", default: false, choices: [["否", false], ["是", true]] },
    { name: "speed", component: "Number", label: "速度调节(仅支持非流式推理)", default: 1 },
  ];
}

export const CV3EN_PARAMS: ParamSpec[] = [
  {
    name: "tts_text",
    component: "Textbox",
    label: "Input Text",
    default:
      "I am a new generative speech model launched by the Tongyi Lab Speech Team, providing comfortable and natural speech synthesis capabilities.",
  },
  { name: "mode_checkbox_group", component: "Radio", label: "Inference Mode", default: "3s Zero-Shot", choices: CV3EN_MODES.map((m) => [m, m]) },
  { name: "prompt_text", component: "Textbox", label: "Input Prompt Text", default: "" },
  { name: "prompt_wav_upload", component: "Audio", label: "Select prompt audio file (Sample rate >= 16kHz)" },
  { name: "prompt_wav_record", component: "Audio", label: "Record prompt audio" },
  { name: "instruct_text", component: "Textbox", label: "Input Instruct Text", default: "" },
  { name: "seed", component: "Number", label: "Random Seed", default: 0 },
  { name: "stream", component: "Radio", label: "Stream Inference", default: false, choices: [["No", false], ["Yes", true]] },
  { name: "speed", component: "Number", label: "Speed Adjustment (Non-streaming only)", default: 1 },
];

/** The /config shapes the checks below read. */
export interface ConfigComponent {
  id: number;
  type: string;
  props: Record<string, unknown>;
}
export interface ConfigDependency {
  id: number;
  targets: [number, string][];
  inputs: number[];
  outputs: number[];
  api_name: string;
  types: { generator: boolean; cancel: boolean };
  queue: boolean;
}
export interface GradioConfig {
  version: string;
  api_prefix: string;
  protocol: string;
  enable_queue: boolean;
  show_error: boolean;
  components: ConfigComponent[];
  dependencies: ConfigDependency[];
}
export interface InfoParam {
  label: string;
  parameter_name: string;
  parameter_has_default: boolean;
  parameter_default: unknown;
  component: string;
  type: Record<string, unknown>;
}
export interface GradioInfo {
  named_endpoints: Record<string, { parameters: InfoParam[]; returns: { label: string; component: string }[] }>;
}
