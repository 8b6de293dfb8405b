/**
 * Variants are recognised from /config data alone, unknown or old UIs are refused with what was
 * found, the stated model is checked against the UI's hints, and a third variant is one entry.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { UnsupportedBackendError } from "../src/index.ts";
import { recognise, type GradioConfig } from "../src/internal/recognize.ts";
import { VARIANTS, type VariantSpec } from "../src/internal/variants.ts";

const load = (name: string): GradioConfig =>
  JSON.parse(readFileSync(new URL(`./fixtures/config-${name}.json`, import.meta.url), "utf8")) as GradioConfig;

function refusal(fn: () => unknown): UnsupportedBackendError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UnsupportedBackendError);
    return e as UnsupportedBackendError;
  }
  throw new Error("expected UnsupportedBackendError");
}

/** The generate_audio dependency and its input components of a config. */
function generate(config: GradioConfig) {
  const dep = config.dependencies!.find((d) => d.api_name === "generate_audio")!;
  const byId = new Map(config.components!.map((c) => [c.id, c]));
  return { dep, inputs: dep.inputs!.map((id) => byId.get(id)!) };
}

describe("recognising the two known UIs from /config", () => {
  it("official + CosyVoice3: clone and cross-lingual, no speakers", () => {
    const r = recognise(load("official-cosyvoice3"), undefined);
    expect(r.spec.name).toBe("official");
    expect(r.model).toBe("cosyvoice3");
    expect(r.fnIndex).toBe(1);
    expect(r.speakers).toEqual([]);
    expect(r.modes).toEqual(["clone", "crossLingual"]);
  });

  it("official with built-in speakers: CosyVoice 1 is inferred when no model is stated", () => {
    const r = recognise(load("official-cosyvoice1"), undefined);
    expect(r.model).toBe("cosyvoice1");
    expect(r.speakers).toContain("中文女");
    expect(r.defaultSpeaker).toBe("中文女");
    expect(r.modes).toEqual(["pretrained", "clone", "crossLingual", "instruct"]);
  });

  it("cv3-en: clone, cross-lingual and instruct", () => {
    const r = recognise(load("cv3-en-cosyvoice3"), "cosyvoice3");
    expect(r.spec.name).toBe("cv3-en");
    expect(r.modes).toEqual(["clone", "crossLingual", "instruct"]);
  });
});

describe("checking the stated model against the hints", () => {
  it("speakers listed but CosyVoice3 stated: refused, naming the speakers", () => {
    const e = refusal(() => recognise(load("official-cosyvoice1"), "cosyvoice3"));
    expect(e.message).toMatch(/CosyVoice 1/);
    expect(e.found["speakers"]).toContain("英文女");
  });

  it("cv3-en with a CosyVoice 1 model stated: refused", () => {
    const e = refusal(() => recognise(load("cv3-en-cosyvoice3"), "cosyvoice1"));
    expect(e.message).toMatch(/does not serve cosyvoice1/);
  });
});

describe("refusing UIs the SDK does not know, saying what was found", () => {
  it("gradio 4.x without the /gradio_api prefix", () => {
    const c = load("official-cosyvoice3");
    c.version = "4.32.2";
    delete c.api_prefix;
    const e = refusal(() => recognise(c, undefined));
    expect(e.message).toMatch(/4\.32\.2/);
    expect(e.found).toMatchObject({ gradioVersion: "4.32.2", apiPrefix: null });
  });

  it("the 2024-07 UI with 8 parameters and no streaming", () => {
    const c = load("official-cosyvoice3");
    const { dep } = generate(c);
    dep.inputs = dep.inputs!.slice(0, 8);
    const e = refusal(() => recognise(c, undefined));
    expect(e.message).toMatch(/expects 10 parameters, found 8/);
    expect((e.found["parameters"] as unknown[]).length).toBe(8);
  });

  it("the 2024-08 UI whose last parameter is a speed_factor slider (0.25..4)", () => {
    const c = load("official-cosyvoice3");
    const { inputs } = generate(c);
    const speed = inputs[9]!;
    speed.type = "slider";
    speed.props = { ...speed.props, minimum: 0.25, maximum: 4, label: "速度调节" };
    const e = refusal(() => recognise(c, undefined));
    expect(e.message).toMatch(/should be a number, found slider/);
  });

  it("a UI whose mode radio has other choices", () => {
    const c = load("cv3-en-cosyvoice3");
    const { inputs } = generate(c);
    inputs[1]!.props = { ...inputs[1]!.props, choices: [["Zero-Shot", "Zero-Shot"]] };
    const e = refusal(() => recognise(c, undefined));
    expect(e.message).toMatch(/mode choices/);
    expect(JSON.stringify(e.found["radios"])).toContain("Zero-Shot");
  });

  it("a stream radio that sends strings instead of booleans", () => {
    const c = load("official-cosyvoice3");
    const { inputs } = generate(c);
    inputs[8]!.props = { ...inputs[8]!.props, choices: [["否", "否"], ["是", "是"]] };
    expect(refusal(() => recognise(c, undefined)).message).toMatch(/stream choices/);
  });

  it("a Gradio app without a generate_audio endpoint", () => {
    const c = load("official-cosyvoice3");
    for (const d of c.dependencies!) if (d.api_name === "generate_audio") d.api_name = "predict";
    const e = refusal(() => recognise(c, undefined));
    expect(e.message).toMatch(/No CosyVoice synthesis endpoint/);
    expect(e.found["endpoints"]).toContain("predict");
  });
});

describe("a third variant is one new table entry", () => {
  it("a relabelled UI is recognised once its entry is added, and not before", () => {
    const c = load("cv3-en-cosyvoice3");
    const { inputs } = generate(c);
    const labels = { clone: "零样本", crossLingual: "跨语种", instruct: "指令" };
    inputs[1]!.props = { ...inputs[1]!.props, choices: Object.values(labels).map((l) => [l, l]) };
    inputs[7]!.props = { ...inputs[7]!.props, choices: [["关", false], ["开", true]] };
    refusal(() => recognise(c, undefined));
    const cv3en = VARIANTS.find((v) => v.name === "cv3-en")!;
    const third: VariantSpec = {
      ...cv3en,
      name: "cv3-zh" as VariantSpec["name"],
      modeLabels: labels,
      streamChoices: { off: ["关", false], on: ["开", true] },
    };
    const r = recognise(c, undefined, [...VARIANTS, third]);
    expect(r.spec.name).toBe("cv3-zh");
    expect(r.modes).toEqual(["clone", "crossLingual", "instruct"]);
  });
});
