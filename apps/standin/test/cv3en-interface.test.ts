import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@gradio/client";
import { closeGradioClient, startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { checkConfig, checkInfo, getJson } from "./interface-checks.ts";
import { CV3EN_PARAMS, type GradioConfig, type GradioInfo } from "./interface-spec.ts";

// The Fun-CosyVoice3 English UI: 9 parameters, no speaker dropdown, English modes and labels.
describe("cv3-en UI", () => {
  let h: StandinHandle;
  beforeAll(async () => {
    h = await startStandin({ variant: "cv3-en", model: "cosyvoice3" });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("serves the upstream /config: dependency order, components, labels, choices, defaults", async () => {
    checkConfig(await getJson<GradioConfig>(`${h.url}/config`), CV3EN_PARAMS);
  });

  it("serves the upstream /gradio_api/info parameter list of /generate_audio", async () => {
    checkInfo(await getJson<GradioInfo>(`${h.url}/gradio_api/info`), CV3EN_PARAMS);
  });

  it("answers change_instruction with the English steps", async () => {
    const client = await Client.connect(h.url);
    const steps = (await client.predict("/change_instruction", ["Instruct"])).data as unknown[];
    expect(steps).toEqual([
      "1. Select prompt audio file.\n2. Enter instruct text (control language, emotion, speed, etc.).\n3. Click Generate Audio button.",
    ]);
    await closeGradioClient(client);
  });
});
