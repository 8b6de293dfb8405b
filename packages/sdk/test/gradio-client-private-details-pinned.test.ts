/**
 * The @gradio/client details the SDK relies on beyond the library's documented surface (listed
 * in src/internal/gradio-session.ts), each checked against the real stand-in, plus the exact
 * version pin. When an upgrade of @gradio/client moves one of them, this file says which.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@gradio/client";
import { startStandin, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PINNED_GRADIO_CLIENT, SessionClient, describeApi, type GradioContext } from "../src/internal/gradio-session.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

describe("@gradio/client is pinned to the version these details were read from", () => {
  it("the installed version is the pinned one", () => {
    const require = createRequire(import.meta.url);
    const pkg = JSON.parse(readFileSync(require.resolve("@gradio/client/package.json"), "utf8")) as { version: string };
    expect(pkg.version, "an upgrade of @gradio/client: re-read gradio-session.ts's three details, then move the pin").toBe(PINNED_GRADIO_CLIENT);
  });
  it("the pnpm catalog names that exact version (no caret, no tilde)", () => {
    const catalog = readFileSync(join(ROOT, "pnpm-workspace.yaml"), "utf8");
    expect(catalog).toMatch(new RegExp(`^\\s*"@gradio/client": ${PINNED_GRADIO_CLIENT.replaceAll(".", "\\.")}$`, "m"));
  });
});

describe("the three undocumented details, against the real stand-in", () => {
  let standin: StandinHandle;
  beforeAll(async () => {
    standin = await startStandin({ variant: "official", model: "cosyvoice1" });
  });
  afterAll(async () => {
    await standin?.stop();
  });

  /** A context whose fetch records every request (method, path). */
  function context(): { ctx: GradioContext; requests: string[] } {
    const requests: string[] = [];
    const ctx: GradioContext = {
      baseUrl: standin.url,
      apiPrefix: "/gradio_api",
      fetch: (input, init) => {
        const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
        requests.push(`${init?.method ?? "GET"} ${new URL(url).pathname}`);
        return fetch(input, init);
      },
      headers: { "x-pinned-test": "1" },
      logger: {},
      maxEventBytes: 1024 * 1024,
    };
    return { ctx, requests };
  }

  it("Client still has the members the session overrides and adopts", () => {
    expect(typeof Client.prototype.fetch).toBe("function");
    expect(typeof Client.prototype.stream).toBe("function");
    const c = new Client("http://127.0.0.1:1", { events: ["data"], session_hash: "pinnedtest" } as never) as unknown as Record<string, unknown>;
    for (const field of ["config", "api_info", "api_map", "api_prefix", "session_hash"]) expect(c, field).toHaveProperty(field);
    // The constructor ignores the session_hash option (only Client.connect applies it): the session sets the field.
    expect(c["session_hash"]).not.toBe("pinnedtest");
    expect(new SessionClient(context().ctx).session_hash).toMatch(/^[0-9a-f]{32}$/);
  });

  it("a job runs from adopted state (no /config, no /info), every request through fetch, the queue stream through stream()", async () => {
    const { ctx, requests } = context();
    const config = (await (await fetch(`${standin.url}/config`)).json()) as Record<string, unknown>;
    ctx.state = await describeApi(ctx, config, AbortSignal.timeout(10_000));
    // (3) view_api() of @gradio/client shaped the API info; the one /info request went through fetch (1).
    expect(requests).toEqual(["GET /gradio_api/info"]);
    expect(ctx.state.apiInfo).toHaveProperty("named_endpoints./generate_audio");
    requests.length = 0;

    const client = new SessionClient(ctx);
    const streamed: string[] = [];
    const open = client.stream.bind(client);
    client.stream = (url: URL) => {
      streamed.push(url.href);
      return open(url);
    };
    const job = client.submit("/generate_audio", ["Pinned details hold.", "预训练音色", "英文女", "", null, null, "", 0, false, 1]);
    const stages: string[] = [];
    let output: unknown;
    try {
      for await (const ev of job as AsyncIterable<{ type: string; stage?: string; data?: unknown[] }>) {
        if (ev.type === "status") stages.push(ev.stage ?? "");
        if (ev.type === "data") output = ev.data?.[0];
        if (ev.stage === "complete") break;
      }
    } finally {
      client.close();
    }
    // (3) adopted state: no /config and no /info per job; (1) join went through the overridden fetch.
    expect(requests.filter((r) => r.endsWith("/config") || r.endsWith("/info"))).toEqual([]);
    expect(requests).toContain("POST /gradio_api/queue/join");
    // (2) the session's queue stream opened through stream(), on the caller's URL and this session.
    expect(streamed).toHaveLength(1);
    const sse = new URL(streamed[0]!);
    expect(`${sse.origin}${sse.pathname}`).toBe(`${standin.url}/gradio_api/queue/data`);
    expect(sse.searchParams.get("session_hash")).toBe(client.session_hash);
    // The events the SDK reads arrive in the shapes it reads them in.
    expect(stages).toContain("generating");
    expect(stages.at(-1)).toBe("complete");
    expect(output).toMatchObject({ path: expect.any(String), is_stream: true, url: expect.stringContaining("/stream/") });
  });

  it("close() ends every request and stream the session left open", async () => {
    const { ctx } = context();
    const client = new SessionClient(ctx);
    const src = client.stream(new URL(`${standin.url}/gradio_api/queue/data?session_hash=${client.session_hash}`));
    client.close();
    expect(client.ended).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect((src as unknown as { readyState: number }).readyState).toBe(2);
  });
});
