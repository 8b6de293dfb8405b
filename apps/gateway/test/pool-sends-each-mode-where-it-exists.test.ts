// A pool of mixed boxes: the official UI with CosyVoice3 (clone, cross-lingual) and the cv3-en
// UI (those plus instruct). A job goes only to a box whose variant and model can run its mode;
// a mode no box has is the same 422 as with one box.
import { startStandin, synthWav, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SDK_READY, SDK_SKIP_REASON } from "./helpers/full-stack.ts";
import { jsonPost, voiceForm } from "./helpers/harness.ts";
import { failovers, startPoolGateway, synthCalls, until, type PoolGateway } from "./helpers/pool-stack.ts";

const skip = SDK_READY ? "" : ` (skipped: ${SDK_SKIP_REASON})`;
const INSTRUCT = { text: "Speak slowly.", mode: "instruct", instruct: "Speak slowly and calmly." } as const;

async function cloneVoice(stack: PoolGateway): Promise<string> {
  const res = await stack.gw.api("/voices", { method: "POST", body: voiceForm({ audio: synthWav(), name: "M", promptText: "Hello." }) });
  expect(res.status).toBe(201);
  return res.json.id;
}

describe.skipIf(!SDK_READY)(`capability-aware routing${skip}`, () => {
  let official: StandinHandle;
  let cv3en: StandinHandle;
  beforeAll(async () => {
    [official, cv3en] = await Promise.all([
      startStandin({ variant: "official", model: "cosyvoice3" }),
      startStandin({ variant: "cv3-en", model: "cosyvoice3" }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([official?.stop(), cv3en?.stop()]);
  });

  describe("both boxes checked", () => {
    let stack: PoolGateway;
    let voice: string;
    beforeAll(async () => {
      stack = await startPoolGateway([official.url, cv3en.url], { healthCheckIntervalMs: 60_000 });
      await until(() => stack.pool.status().every((b) => b.state === "up"), "both backends to be checked up");
      voice = await cloneVoice(stack);
    });
    afterAll(() => stack?.close());

    it("the pool says what each box can do, without a network call", () => {
      expect(stack.pool.backends().map((b) => [b.name, b.state, b.variant, b.model, b.modes])).toEqual([
        ["backend-1", "up", "official", "cosyvoice3", ["clone", "crossLingual"]],
        ["backend-2", "up", "cv3-en", "cosyvoice3", ["clone", "crossLingual", "instruct"]],
      ]);
    });

    it("instruct jobs run only on the cv3-en box, even when it is the busier one", async () => {
      const before = { official: synthCalls(official.record), cv3en: synthCalls(cv3en.record) };
      const results = await Promise.all([1, 2, 3].map(() => stack.gw.api("/synthesize", jsonPost({ ...INSTRUCT, voice }))));
      expect(results.map((r) => r.status)).toEqual([201, 201, 201]);
      expect(results.every((r) => r.json.mode === "instruct")).toBe(true);
      expect(synthCalls(cv3en.record) - before.cv3en).toBe(3);
      expect(synthCalls(official.record)).toBe(before.official);
      expect(failovers(stack.logLines)).toEqual([]);
    });

    it("clone jobs still go to both (fewest outstanding, taking turns)", async () => {
      const before = [synthCalls(official.record), synthCalls(cv3en.record)];
      for (let i = 0; i < 4; i++) expect((await stack.gw.api("/synthesize", jsonPost({ text: "Hello again.", voice }))).status).toBe(201);
      expect([synthCalls(official.record) - before[0]!, synthCalls(cv3en.record) - before[1]!]).toEqual([2, 2]);
    });
  });

  describe("before any check (the pool has not seen either box)", () => {
    let stack: PoolGateway;
    let voice: string;
    beforeAll(async () => {
      stack = await startPoolGateway([official.url, cv3en.url], { healthCheckIntervalMs: 0 });
      voice = await cloneVoice(stack);
    });
    afterAll(() => stack?.close());

    it("an instruct job tried on the official box (refused before anything is sent) moves to cv3-en", async () => {
      const before = { official: synthCalls(official.record), cv3en: synthCalls(cv3en.record) };
      const res = await stack.gw.api("/synthesize", jsonPost({ ...INSTRUCT, voice }));
      expect(res.status).toBe(201);
      expect(synthCalls(cv3en.record) - before.cv3en).toBe(1);
      expect(synthCalls(official.record)).toBe(before.official);
      expect(failovers(stack.logLines)).toEqual([{ from: "backend-1", to: "backend-2", code: "unsupported_mode" }]);
    });
  });

  describe("no box can run the mode", () => {
    let stack: PoolGateway;
    let voice: string;
    beforeAll(async () => {
      stack = await startPoolGateway([official.url], { healthCheckIntervalMs: 60_000 });
      await until(() => stack.pool.status()[0]?.state === "up", "the backend to be checked up");
      voice = await cloneVoice(stack);
    });
    afterAll(() => stack?.close());

    it("is the mode error, as with one box", async () => {
      const res = await stack.gw.api("/synthesize", jsonPost({ ...INSTRUCT, voice }));
      expect(res.status).toBe(422);
      expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:unsupported-mode");
    });
  });
});
