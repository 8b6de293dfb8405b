/**
 * One pool for both doors: with a routes file whose route says `synthesis: true` (or is named by
 * SYNTHESIS_ROUTE), the REST API's backends are that route's, not COSYVOICE_URL's, so REST jobs
 * and passthrough jobs run on the same boxes under the same per-box caps.
 */
import { readRecord, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBoxes, startRoutedGateway, tempRoot } from "./helpers/passthrough.ts";

describe("the REST API's backends from the routes file", () => {
  const tmp = tempRoot("rest-from-routes-");
  let box: StandinHandle;
  beforeAll(async () => {
    [box] = (await startBoxes(tmp.root, 1, { model: "cosyvoice1" })) as [StandinHandle];
  });
  afterAll(async () => {
    await box?.stop();
    tmp.cleanup();
  });

  const synthesize = (url: string) =>
    fetch(`${url}/synthesize`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "From the routes file.", voice: "builtin:中文女" }) });

  it("a route with synthesis: true serves /synthesize (COSYVOICE_URL points nowhere)", async () => {
    const g = await startRoutedGateway(`${tmp.root}/flag`, `routes:\n  - path: /cosyvoice/\n    synthesis: true\n    backends: ["${box.url}"]\n`, { model: "cosyvoice1" });
    try {
      expect((await synthesize(g.url)).status).toBe(201);
      expect(g.gw.pool.endpoints()).toEqual({ "backend-1": box.url });
      expect(readRecord(box.record).some((e) => e.event === "call" && e["fn"] === "generate_audio")).toBe(true);
    } finally {
      await g.close();
    }
  });

  it("SYNTHESIS_ROUTE names the route (an Ocelot file has no such key)", async () => {
    const ocelot = JSON.stringify({
      Routes: [{ UpstreamPathTemplate: "/tts/{everything}", DownstreamPathTemplate: "/{everything}", DownstreamHostAndPorts: [{ Host: "127.0.0.1", Port: box.port }] }],
    });
    const g = await startRoutedGateway(`${tmp.root}/named`, ocelot, { model: "cosyvoice1", synthesisRoute: "tts" }, "ocelot.json");
    try {
      expect((await synthesize(g.url)).status).toBe(201);
      expect(Object.values(g.gw.pool.endpoints())).toEqual([`http://127.0.0.1:${box.port}`]);
    } finally {
      await g.close();
    }
  });

  it("a SYNTHESIS_ROUTE the file does not have stops the start", async () => {
    await expect(startRoutedGateway(`${tmp.root}/missing`, `routes:\n  - path: /cosyvoice/\n    backends: ["${box.url}"]\n`, { synthesisRoute: "nope" })).rejects.toThrow(/SYNTHESIS_ROUTE: no route named nope/);
  });
});
