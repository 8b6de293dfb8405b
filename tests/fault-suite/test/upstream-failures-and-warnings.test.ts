// A backend that fails some jobs with a hidden error, and one that answers every job with a
// UI warning. Each failure reaches the client as a documented problem with a reason (502
// backend-error, 422 backend-warning with the UI's message), never as silence or a 201.
import { readRecord } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, cloneVoice, expectProblem, jsonPost, PROBLEM_PREFIX } from "./helpers/http.ts";
import { postJson } from "./helpers/stream.ts";
import { jobsWith, unfinishedJobs } from "./helpers/record.ts";
import { startStack, type Stack } from "./helpers/stack.ts";

describe("a backend failing half of its jobs", () => {
  let stack: Stack;
  let voice: string;
  beforeAll(async () => {
    // The breaker off: a coin-flip backend fails five jobs in a row now and then, and the breaker
    // would then answer 503 breaker-open (it has tests of its own in the gateway's project).
    stack = await startStack({ variant: "official", model: "cosyvoice3", failRate: 0.5 }, { breaker: { failures: 0, openMs: 10_000 } });
    voice = await cloneVoice(stack.gw.url);
  });
  afterAll(() => stack?.close());

  it("every request is a clip or a 502 backend-error, and they match the backend's record one to one", async () => {
    let ok = 0;
    let failed = 0;
    for (let i = 0; i < 16; i++) {
      const body = { text: `Sentence number ${i}. And one more.`, voice };
      if (i % 2 === 1) {
        // Streamed: a failure before the first audio is a 502 problem; after it, a cut stream.
        const end = await postJson(stack.gw.url, "/synthesize", { ...body, stream: true }).done;
        if (end.status === 200 && end.clean) ok++;
        else if (end.status === 200) failed++;
        else {
          expect(end.status).toBe(502);
          expect(JSON.parse(end.bytes.toString("utf8"))).toMatchObject({ type: PROBLEM_PREFIX + "backend-error" });
          failed++;
        }
        continue;
      }
      const a = await call(stack.gw.url + "/synthesize", jsonPost(body));
      if (a.status === 201) ok++;
      else {
        expectProblem(a, 502, "backend-error");
        failed++;
      }
    }
    const rec = readRecord(stack.standin.record);
    expect(jobsWith(rec, "call")).toHaveLength(16);
    expect(unfinishedJobs(rec)).toEqual([]);
    expect(jobsWith(rec, "error")).toHaveLength(failed);
    expect(jobsWith(rec, "done")).toHaveLength(ok);
    expect(ok + failed).toBe(16);
  });
});

describe.each(["official", "cv3-en"] as const)("a backend that warns on every job (%s UI)", (variant) => {
  let stack: Stack;
  let voice: string;
  beforeAll(async () => {
    stack = await startStack({ variant, model: "cosyvoice3", forceWarning: true });
    voice = await cloneVoice(stack.gw.url);
  });
  afterAll(() => stack?.close());

  it.each([false, true])("stream=%s: 422 backend-warning carrying the UI's message", async (stream) => {
    const a = await call(stack.gw.url + "/synthesize", jsonPost({ text: "Hello there.", voice, stream }));
    const p = expectProblem(a, 422, "backend-warning");
    const warned = readRecord(stack.standin.record).filter((e) => e.event === "warning").at(-1);
    expect(p.detail).toBe(warned?.["message"]);
  });
});
