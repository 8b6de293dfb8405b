// A COSYVOICE_URL without a kind in its scheme: the first use probes what answers there
// (FastAPI's /openapi.json listing /inference_zero_shot, an OpenAI server's /v1/models, else a
// Gradio UI), against the real stand-ins; and a pool of bare URLs serves through the driver found.
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectKind } from "../src/backends/detect.ts";
import { jsonPost } from "./helpers/harness.ts";
import { startPoolGateway } from "./helpers/pool-stack.ts";

describe("kind by probing", () => {
  let fastapi: StandinHandle;
  let openai: StandinHandle;
  let gradio: StandinHandle;
  beforeAll(async () => {
    [fastapi, openai, gradio] = await Promise.all([
      startStandin({ serve: "fastapi", model: "cosyvoice1", startTimeoutMs: 240_000 }),
      startStandin({ serve: "openai", model: "cosyvoice3", startTimeoutMs: 240_000 }),
      startStandin({ variant: "official", model: "cosyvoice1", startTimeoutMs: 240_000 }),
    ]);
  }, 300_000);
  afterAll(async () => {
    await Promise.all([fastapi?.stop(), openai?.stop(), gradio?.stop()]);
  });

  it("names each stand-in's kind", async () => {
    expect(await detectKind(fastapi.url)).toBe("cosyvoice-fastapi");
    expect(await detectKind(openai.url)).toBe("openai");
    expect(await detectKind(`${openai.url}/v1`)).toBe("openai");
    expect(await detectKind(gradio.url)).toBe("gradio");
  });

  it("a pool of bare URLs reports the kinds it found and serves through them", async () => {
    const stack = await startPoolGateway([fastapi.url, gradio.url], { model: "cosyvoice1" });
    try {
      for (let i = 0; i < 2; i++) expect((await stack.gw.api("/synthesize", jsonPost({ text: "Hello.", voice: "builtin:中文女" }))).status).toBe(201);
      const ready = await stack.gw.api("/readyz");
      expect(ready.json.backends.map((b: { kind?: string }) => b.kind)).toEqual(["cosyvoice-fastapi", "gradio"]);
    } finally {
      await stack.close();
    }
  });
});
