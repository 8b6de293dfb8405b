/**
 * Recognises which CosyVoice web UI a Gradio `/config` describes, from data only: the synthesis
 * endpoint's input components, the mode and stream radio choices and the speed bounds are compared
 * with each entry of the variants table.
 */
import { UnsupportedBackendError } from "../errors.ts";
import type { Mode } from "../schemas.ts";
import type { ModelFamily } from "../types.ts";
import {
  ROLE_COMPONENT,
  VARIANTS,
  availableModes,
  type ModelSupport,
  type ParamRole,
  type VariantSpec,
} from "./variants.ts";

/** The parts of Gradio's `/config` the SDK reads. */
export interface GradioConfig {
  version?: string;
  api_prefix?: string;
  protocol?: string;
  root?: string;
  components?: { id: number; type: string; props?: Record<string, unknown> }[];
  dependencies?: { id?: number; api_name?: string | null | false; inputs?: number[]; outputs?: number[] }[];
}

/** What recognition found: the variant, its endpoint and the UI's own values. */
export interface Recognised {
  spec: VariantSpec;
  support: ModelSupport;
  model: ModelFamily;
  gradioVersion: string;
  fnIndex: number;
  /** Built-in speakers; `[""]` in the UI becomes `[]`. */
  speakers: string[];
  /** The speaker dropdown's current value, sent when a mode does not use it (Gradio validates dropdown values). */
  defaultSpeaker: string | null;
  modes: Mode[];
}

type Component = NonNullable<GradioConfig["components"]>[number];

/** Values of a radio/dropdown `choices` prop, which Gradio writes as `[label, value]` pairs. */
function choicePairs(c: Component | undefined): [unknown, unknown][] {
  const raw = c?.props?.["choices"];
  if (!Array.isArray(raw)) return [];
  return raw.map((ch) => (Array.isArray(ch) ? [ch[0], ch[1]] : [ch, ch]));
}

function describe(config: GradioConfig, inputs: Component[] | undefined): Record<string, unknown> {
  return {
    gradioVersion: config.version ?? null,
    apiPrefix: config.api_prefix ?? null,
    protocol: config.protocol ?? null,
    endpoints: (config.dependencies ?? []).map((d) => d.api_name).filter((n) => typeof n === "string"),
    parameters: inputs?.map((c) => ({ component: c.type, label: c.props?.["label"] ?? null })),
    radios: inputs
      ?.filter((c) => c.type === "radio")
      .map((c) => choicePairs(c).map(([label, value]) => ({ label, value }))),
  };
}

/** Why `spec` does not match, or null when it does. */
function mismatch(spec: VariantSpec, inputs: Component[], outputs: Component[]): string | null {
  if (inputs.length !== spec.params.length) {
    return `expects ${spec.params.length} parameters, found ${inputs.length}`;
  }
  const at = (role: ParamRole) => inputs[spec.params.indexOf(role)];
  for (const [i, role] of spec.params.entries()) {
    const c = inputs[i];
    if (c?.type !== ROLE_COMPONENT[role]) return `parameter ${i + 1} (${role}) should be a ${ROLE_COMPONENT[role]}, found ${c?.type}`;
  }
  const modeValues = new Set(choicePairs(at("mode")).map(([, v]) => v));
  const wanted = Object.values(spec.modeLabels);
  if (modeValues.size !== wanted.length || !wanted.every((l) => modeValues.has(l))) {
    return `mode choices ${JSON.stringify([...modeValues])} differ from ${JSON.stringify(wanted)}`;
  }
  const stream = choicePairs(at("stream"));
  for (const [label, value] of [spec.streamChoices.off, spec.streamChoices.on]) {
    if (!stream.some(([l, v]) => l === label && v === value)) {
      return `stream choices ${JSON.stringify(stream)} lack ${JSON.stringify([label, value])}`;
    }
  }
  const speed = at("speed")?.props ?? {};
  if (speed["minimum"] !== spec.speedRange[0] || speed["maximum"] !== spec.speedRange[1]) {
    return `speed bounds ${String(speed["minimum"])}..${String(speed["maximum"])} differ from ${spec.speedRange.join("..")}`;
  }
  const out = outputs[0];
  if (outputs.length !== 1 || out?.type !== "audio" || out.props?.["streaming"] !== true) {
    return "the output is not one streaming Audio component";
  }
  return null;
}

/**
 * Matches `/config` against the variants table and checks the stated model against the hints.
 * Throws {@link UnsupportedBackendError} saying what was found when nothing matches.
 */
export function recognise(config: GradioConfig, statedModel: ModelFamily | undefined, variants = VARIANTS): Recognised {
  const version = config.version ?? "";
  const major = Number.parseInt(version.split(".")[0] ?? "", 10);
  if (!(major >= 5) || typeof config.api_prefix !== "string" || config.api_prefix === "") {
    throw new UnsupportedBackendError(
      `Gradio ${version || "(unknown version)"} without the /gradio_api prefix is not supported; the SDK needs a CosyVoice web UI on gradio 5.x`,
      describe(config, undefined),
    );
  }
  if (config.protocol !== "sse_v3") {
    throw new UnsupportedBackendError(
      `Gradio protocol ${String(config.protocol)} is not supported (expected sse_v3)`,
      describe(config, undefined),
    );
  }
  const components = new Map((config.components ?? []).map((c) => [c.id, c]));
  const reasons: string[] = [];
  for (const [index, dep] of (config.dependencies ?? []).entries()) {
    const candidates = variants.filter((v) => v.endpoint === dep.api_name);
    if (candidates.length === 0) continue;
    const inputs = (dep.inputs ?? []).map((id) => components.get(id)).filter((c): c is Component => c !== undefined);
    const outputs = (dep.outputs ?? []).map((id) => components.get(id)).filter((c): c is Component => c !== undefined);
    for (const spec of candidates) {
      const why = mismatch(spec, inputs, outputs);
      if (why) {
        reasons.push(`${spec.name}: ${why}`);
        continue;
      }
      return withModel(spec, config, dep.id ?? index, inputs, statedModel);
    }
    throw new UnsupportedBackendError(
      `The /${String(dep.api_name)} endpoint matches no known CosyVoice web UI (${reasons.join("; ")})`,
      describe(config, inputs),
    );
  }
  throw new UnsupportedBackendError(
    `No CosyVoice synthesis endpoint (/${[...new Set(variants.map((v) => v.endpoint))].join(", /")}) found`,
    describe(config, undefined),
  );
}

function withModel(
  spec: VariantSpec,
  config: GradioConfig,
  fnIndex: number,
  inputs: Component[],
  statedModel: ModelFamily | undefined,
): Recognised {
  const speakerIdx = spec.params.indexOf("speaker");
  const dropdown = speakerIdx >= 0 ? inputs[speakerIdx] : undefined;
  const speakers = choicePairs(dropdown)
    .map(([, v]) => v)
    .filter((v): v is string => typeof v === "string" && v !== "");
  const rawDefault = dropdown?.props?.["value"];
  const defaultSpeaker = typeof rawDefault === "string" ? rawDefault : null;
  // Built-in speakers exist only in CosyVoice 1 SFT/Instruct models; an empty list proves nothing.
  const hinted: ModelFamily | undefined = speakers.length > 0 ? "cosyvoice1" : undefined;
  const families = Object.keys(spec.models) as ModelFamily[];
  const model = statedModel ?? hinted ?? (families.includes("cosyvoice3") ? "cosyvoice3" : families[0]);
  const found = { ...describe(config, inputs), variant: spec.name, speakers, statedModel: statedModel ?? null };
  const support = model ? spec.models[model] : undefined;
  if (!model || !support) {
    throw new UnsupportedBackendError(
      `The ${spec.name} UI does not serve ${String(model)} models (it serves ${families.join(", ")})`,
      found,
    );
  }
  if (hinted && hinted !== model) {
    throw new UnsupportedBackendError(
      `The UI lists built-in speakers (${speakers.slice(0, 3).join(", ")}${speakers.length > 3 ? ", ..." : ""}), which only CosyVoice 1 models have, but the model was stated as ${model}`,
      found,
    );
  }
  return {
    spec,
    support,
    model,
    gradioVersion: config.version ?? "",
    fnIndex,
    speakers,
    defaultSpeaker,
    modes: availableModes(spec, support, speakers),
  };
}
