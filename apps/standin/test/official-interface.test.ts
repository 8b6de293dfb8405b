import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@gradio/client";
import { closeGradioClient, startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { checkConfig, checkInfo, getJson } from "./interface-checks.ts";
import { COSYVOICE1_SPEAKERS, officialParams, type GradioConfig, type GradioInfo } from "./interface-spec.ts";

// The official webui.py: 10 parameters; the speaker list is the model's ([""] for CosyVoice2/3).
describe.each([
  { model: "cosyvoice3" as const, speakers: [""] },
  { model: "cosyvoice1" as const, speakers: COSYVOICE1_SPEAKERS },
])("official UI with $model", ({ model, speakers }) => {
  let h: StandinHandle;
  beforeAll(async () => {
    h = await startStandin({ variant: "official", model });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("serves the upstream /config: dependency order, components, labels, choices, defaults", async () => {
    checkConfig(await getJson<GradioConfig>(`${h.url}/config`), officialParams(speakers));
  });

  it("serves the upstream /gradio_api/info parameter list of /generate_audio", async () => {
    checkInfo(await getJson<GradioInfo>(`${h.url}/gradio_api/info`), officialParams(speakers));
  });

  it("answers generate_seed and change_instruction as upstream does", async () => {
    const client = await Client.connect(h.url);
    // upstream returns a component update, not a bare number, and clients see it as such
    const [update] = (await client.predict("/generate_seed", [])).data as { __type__: string; value: number }[];
    expect(update?.__type__).toBe("update");
    expect(Number.isInteger(update?.value)).toBe(true);
    expect(update?.value).toBeGreaterThanOrEqual(1);
    expect(update?.value).toBeLessThanOrEqual(100_000_000);
    const steps = (await client.predict("/change_instruction", ["3s极速复刻"])).data as unknown[];
    expect(steps).toEqual([
      "1. 选择prompt音频文件，或录入prompt音频，注意不超过30s，若同时提供，优先选择prompt音频文件\n2. 输入prompt文本\n3. 点击生成音频按钮",
    ]);
    await closeGradioClient(client);
  });
});
