import { expect } from "vitest";
import type { ConfigComponent, GradioConfig, GradioInfo, ParamSpec } from "./interface-spec.ts";

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return (await res.json()) as T;
}

function component(config: GradioConfig, id: number): ConfigComponent {
  const c = config.components.find((x) => x.id === id);
  if (!c) throw new Error(`component ${id} missing from /config`);
  return c;
}

/** /config: three dependencies in upstream order, and the inputs of generate_audio as specified. */
export function checkConfig(config: GradioConfig, params: ParamSpec[]): void {
  expect(config.api_prefix).toBe("/gradio_api");
  expect(config.protocol).toBe("sse_v3");
  expect(config.enable_queue).toBe(true);
  expect(config.show_error).toBe(false);
  expect(config.dependencies.map((d) => [d.id, d.api_name])).toEqual([
    [0, "generate_seed"],
    [1, "generate_audio"],
    [2, "change_instruction"],
  ]);
  const [seed, gen, change] = config.dependencies;
  if (!seed || !gen || !change) throw new Error("dependencies missing");
  expect(seed.types.generator).toBe(false);
  expect(gen.types.generator).toBe(true);
  expect(seed.targets.map((t) => t[1])).toEqual(["click"]);
  expect(gen.targets.map((t) => t[1])).toEqual(["click"]);
  expect(change.targets.map((t) => t[1])).toEqual(["change"]);
  expect(seed.inputs).toEqual([]);
  // the dice's output is the seed input of generate_audio; the radio feeds change_instruction
  expect(seed.outputs).toEqual([gen.inputs[params.findIndex((p) => p.name === "seed")]]);
  expect(change.inputs).toEqual([gen.inputs[params.findIndex((p) => p.name === "mode_checkbox_group")]]);

  expect(gen.inputs).toHaveLength(params.length);
  gen.inputs.forEach((id, i) => {
    const spec = params[i];
    if (!spec) throw new Error("spec missing");
    const c = component(config, id);
    expect(c.type, spec.name).toBe(spec.component.toLowerCase());
    expect(c.props["label"], spec.name).toBe(spec.label);
    expect(c.props["value"] ?? null, spec.name).toEqual(spec.default ?? null);
    if (spec.choices) expect(c.props["choices"], spec.name).toEqual(spec.choices);
    if (spec.component === "Audio") {
      expect(c.props["type"]).toBe("filepath");
      expect(c.props["sources"]).toEqual([spec.name === "prompt_wav_upload" ? "upload" : "microphone"]);
    }
    if (spec.name === "speed") {
      expect([c.props["minimum"], c.props["maximum"], c.props["step"]]).toEqual([0.5, 2.0, 0.1]);
    }
  });
  expect(gen.outputs).toHaveLength(1);
  const out = component(config, gen.outputs[0] ?? -1);
  expect(out.type).toBe("audio");
  expect(out.props["streaming"]).toBe(true);
  expect(out.props["autoplay"]).toBe(true);
}

/** /gradio_api/info: parameter names, order, components, labels, defaults, choices. */
export function checkInfo(info: GradioInfo, params: ParamSpec[]): void {
  expect(Object.keys(info.named_endpoints)).toEqual(["/generate_seed", "/generate_audio", "/change_instruction"]);
  const gen = info.named_endpoints["/generate_audio"];
  if (!gen) throw new Error("/generate_audio missing");
  expect(gen.parameters.map((p) => p.parameter_name)).toEqual(params.map((p) => p.name));
  gen.parameters.forEach((p, i) => {
    const spec = params[i];
    if (!spec) throw new Error("spec missing");
    expect(p.component, spec.name).toBe(spec.component);
    expect(p.label, spec.name).toBe(spec.label);
    // Audio inputs have no default: a client must send null explicitly
    expect(p.parameter_has_default, spec.name).toBe(spec.default !== undefined);
    if (spec.default !== undefined) expect(p.parameter_default, spec.name).toEqual(spec.default);
    if (spec.choices) expect(p.type["enum"], spec.name).toEqual(spec.choices.map((c) => c[1]));
  });
  expect(gen.returns.map((r) => r.component)).toEqual(["Audio"]);
  expect(info.named_endpoints["/generate_seed"]?.parameters).toEqual([]);
  expect(info.named_endpoints["/change_instruction"]?.parameters.map((p) => p.parameter_name)).toEqual(["mode_checkbox_group"]);
}
