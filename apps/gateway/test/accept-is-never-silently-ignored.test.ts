/**
 * `POST /synthesize` answers what the client's Accept header allows, or 406 naming what is
 * available; it never sends JSON to a client that asked only for audio it cannot make.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { negotiate, SYNTHESIS_OFFERS, synthesisOffer } from "../src/platform/http/negotiate.ts";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { jsonPost, startTestGateway, type TestGateway } from "./helpers/harness.ts";

describe("negotiate (pure)", () => {
  it.each([
    [undefined, "application/json"],
    ["", "application/json"],
    ["*/*", "application/json"],
    ["application/json", "application/json"],
    ["audio/aac", "audio/aac"],
    ["audio/*", "audio/aac"],
    ["audio/aac, application/json", "audio/aac"],
    ["application/json;q=0.1, audio/aac;q=0.9", "audio/aac"],
    ["text/html, */*;q=0.8", "application/json"],
    ["audio/mpeg", "audio/mpeg"],
    ["audio/ogg, audio/mpeg;q=0.5", "audio/ogg"],
    ["audio/x-matroska", undefined],
    ["application/problem+json", undefined],
    ["audio/aac;q=0", undefined],
  ])("Accept %j -> %s", (accept, type) => {
    expect(negotiate(accept, SYNTHESIS_OFFERS)?.type).toBe(type);
  });

  it("a later format is one more offer", () => {
    const withMkv = [...SYNTHESIS_OFFERS, { type: "audio/x-matroska", stream: true, description: "Matroska" }];
    expect(negotiate("audio/x-matroska", withMkv)?.type).toBe("audio/x-matroska");
  });

  it("every encoder format is an offer, streamed, with its format", () => {
    expect(SYNTHESIS_OFFERS.filter((o) => o.stream).map((o) => [o.type, o.audioFormat])).toEqual([
      ["audio/aac", "aac"],
      ["audio/mpeg", "mp3"],
      ["audio/ogg", "opus"],
      ["audio/flac", "flac"],
      ["audio/wav", "wav"],
      ["audio/pcm", "pcm"],
    ]);
  });

  it("stream narrows the offers, and the 406 says why", () => {
    expect(synthesisOffer("*/*", true).type).toBe("audio/aac");
    expect(() => synthesisOffer("application/json", true)).toThrow(/with "stream": true\. Available: audio\/aac/);
  });
});

describe("POST /synthesize over HTTP", () => {
  const backend = new FakeBackend();
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ backend });
  });
  afterAll(() => gw.close());
  const body = { text: "Hi.", voice: "builtin:中文女" };

  it("Accept: audio/x-matroska is 406 problem+json listing what is available, and nothing is synthesized", async () => {
    const before = backend.calls.length;
    const res = await gw.api("/synthesize", jsonPost(body, { accept: "audio/x-matroska" }));
    expect(res.status).toBe(406);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(res.json.type).toBe("urn:cosyvoice3-gateway:problem:not-acceptable");
    expect(res.json.detail).toMatch(
      /^Accept: audio\/x-matroska cannot be met\. Available: application\/json \(201 with the stored clip's id and url \(the clip is audio\/wav\)\), audio\/aac \(200 with AAC \(ADTS\) chunks as they are generated\), audio\/mpeg \(200 with MP3 encoded as the chunks are generated\), /,
    );
    expect(backend.calls.length).toBe(before);
  });

  it('"stream": true with Accept: application/json is 406 too', async () => {
    const res = await gw.api("/synthesize", jsonPost({ ...body, stream: true }, { accept: "application/json" }));
    expect(res.status).toBe(406);
  });

  it("what can be met is met: JSON 201, audio/aac 200, */* JSON", async () => {
    const json = await gw.api("/synthesize", jsonPost(body, { accept: "application/json" }));
    expect(json.status).toBe(201);
    const aac = await gw.api("/synthesize", jsonPost(body, { accept: "audio/aac" }));
    expect(aac.status).toBe(200);
    expect(aac.headers.get("content-type")).toBe("audio/aac");
    const any = await gw.api("/synthesize", jsonPost(body, { accept: "*/*" }));
    expect(any.status).toBe(201);
  });
});
