/**
 * JWT_SECRET on the whole app (every response checked against the OpenAPI document): a token's
 * `sub` owns what it makes (another subject cannot see or use its voice), a `scope` claim
 * restricts the routes (403 `forbidden`), and an API key keeps working beside tokens.
 */
import { synthWav } from "@cosyvoice3/testkit";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { jsonPost, startTestGateway, voiceForm, type TestGateway } from "./helpers/harness.ts";

const SECRET = "j".repeat(48);
const KEY = "key-0123456789abcdef0123456789ab";
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway({ backend: new FakeBackend(), config: { apiKeys: [KEY], jwt: { secret: SECRET, audience: "tts", clockSkewSec: 30 } } });
});
afterAll(() => gw.close());

const token = (sub: string, claims: Record<string, unknown> = {}) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setSubject(sub).setAudience("tts").setExpirationTime("5m").sign(new TextEncoder().encode(SECRET));
const as = (credential: string) => ({ authorization: `Bearer ${credential}` });

describe("JWTs on the gateway", () => {
  it("a subject's voice is its own: another subject gets 404, the owner synthesizes with it", async () => {
    const alice = await token("alice");
    const bob = await token("bob");
    const made = await gw.api("/voices", { method: "POST", headers: as(alice), body: voiceForm({ audio: synthWav({ seconds: 3 }), name: "A", promptText: "Hello there." }) });
    expect(made.status).toBe(201);
    expect((await gw.api(`/voices/${made.json.id}`, { headers: as(bob) })).status).toBe(404);
    expect((await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: made.json.id }, as(bob)))).status).toBe(404);
    expect((await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: made.json.id }, as(alice)))).status).toBe(201);
    const listed = await gw.api("/voices", { headers: as(bob) });
    expect(listed.json.voices.some((v: { id: string }) => v.id === made.json.id)).toBe(false);
  });

  it("a scope claim restricts routes; reads need only a valid token", async () => {
    const reader = await token("carol", { scope: "synthesize" });
    const refused = await gw.api("/voices", { method: "POST", headers: as(reader), body: voiceForm({ audio: synthWav({ seconds: 3 }), name: "C" }) });
    expect(refused.status).toBe(403);
    expect(refused.json.type).toBe("urn:cosyvoice3-gateway:problem:forbidden");
    expect((await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女" }, as(reader)))).status).toBe(201);
    expect((await gw.api("/voices", { headers: as(reader) })).status).toBe(200);
    const writer = await token("dave", { scope: "voices:write" });
    expect((await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女" }, as(writer)))).status).toBe(403);
  });

  it("the API key keeps working; a token for another audience and no credential are 401", async () => {
    expect((await gw.api("/synthesize", jsonPost({ text: "Hi.", voice: "builtin:中文女" }, as(KEY)))).status).toBe(201);
    const other = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("eve").setAudience("other").setExpirationTime("5m").sign(new TextEncoder().encode(SECRET));
    expect((await gw.api("/voices", { headers: as(other) })).status).toBe(401);
    expect((await gw.api("/voices")).status).toBe(401);
  });
});
