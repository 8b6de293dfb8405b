/**
 * Keys on the passthrough. With API_KEYS set, programs send `Authorization: Bearer <key>`; a
 * person opening the page is sent to `/sign-in` once and gets an HttpOnly, SameSite cookie that
 * holds a signed token, never the key, and the key never travels in a URL. The backend sees
 * neither the key nor the cookie. Without keys the passthrough is open.
 */
import type { StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBoxes, startEchoBackend, startRoutedGateway, tempRoot, type EchoBackend, type RoutedGateway } from "./helpers/passthrough.ts";

const KEY = "sign-in-key-0123456789";

describe("keys on the passthrough", () => {
  const tmp = tempRoot("passthrough-keys-");
  let box: StandinHandle;
  let echo: EchoBackend;
  let g: RoutedGateway;

  beforeAll(async () => {
    [box] = (await startBoxes(tmp.root, 1)) as [StandinHandle];
    echo = await startEchoBackend();
    g = await startRoutedGateway(
      tmp.root,
      `routes:\n  - path: /cosyvoice/\n    kind: gradio\n    backends: ["${box.url}"]\n  - path: /echo/\n    kind: http\n    backends: ["${echo.url}"]\n`,
      { apiKeys: [KEY] },
    );
  });
  afterAll(async () => {
    await g?.close();
    await echo?.close();
    await box?.stop();
    tmp.cleanup();
  });

  it("a program without a key gets 401 with WWW-Authenticate; with the Bearer key it gets through", async () => {
    const none = await fetch(`${g.url}/cosyvoice/config`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await fetch(`${g.url}/cosyvoice/config`, { headers: { authorization: "Bearer wrong-key-0123456789" } })).status).toBe(401);
    expect((await fetch(`${g.url}/cosyvoice/config`, { headers: { authorization: `Bearer ${KEY}` } })).status).toBe(200);
  });

  it("the backend sees neither the key nor the sign-in cookie", async () => {
    const res = await fetch(`${g.url}/echo/headers`, { headers: { authorization: `Bearer ${KEY}`, cookie: "theirs=1; cv3gw_session=abc" } });
    const seen = (await res.json()) as Record<string, string>;
    expect(seen["authorization"]).toBeUndefined();
    expect(seen["cookie"]).toBe("theirs=1");
  });

  it("a browser is sent to sign in, signs in once, and its cookie opens the page", async () => {
    const page = await fetch(`${g.url}/cosyvoice/`, { headers: { accept: "text/html" }, redirect: "manual" });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/sign-in?next=%2Fcosyvoice%2F");
    const form = await fetch(`${g.url}/sign-in?next=%2Fcosyvoice%2F`);
    expect(await form.text()).toContain('name="next" value="/cosyvoice/"');

    const wrong = await fetch(`${g.url}/sign-in`, { method: "POST", body: new URLSearchParams({ key: "nope", next: "/cosyvoice/" }), redirect: "manual" });
    expect(wrong.status).toBe(303);
    expect(wrong.headers.get("location")).toMatch(/^\/sign-in\?error=1/);
    expect(wrong.headers.get("set-cookie")).toBeNull();

    const ok = await fetch(`${g.url}/sign-in`, { method: "POST", body: new URLSearchParams({ key: KEY, next: "/cosyvoice/" }), redirect: "manual" });
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/cosyvoice/");
    const cookie = ok.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^cv3gw_session=/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).not.toContain(KEY);
    expect(ok.headers.get("location")).not.toContain(KEY);

    const jar = cookie.split(";")[0] as string;
    const inside = await fetch(`${g.url}/cosyvoice/`, { headers: { accept: "text/html", cookie: jar } });
    expect(inside.status).toBe(200);
    expect(await inside.text()).toContain("gradio_config");
    // The page's own API calls carry the cookie too.
    expect((await fetch(`${g.url}/cosyvoice/gradio_api/info`, { headers: { cookie: jar } })).status).toBe(200);
  });

  it("a tampered or foreign token is refused", async () => {
    const ok = await fetch(`${g.url}/sign-in`, { method: "POST", body: new URLSearchParams({ key: KEY, next: "/" }), redirect: "manual" });
    const token = (ok.headers.get("set-cookie") ?? "").split(";")[0]?.split("=")[1] ?? "";
    const [payload, sig] = token.split(".");
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString()) as { k: string; e: number };
    const longer = Buffer.from(JSON.stringify({ ...claims, e: claims.e + 86_400 })).toString("base64url");
    expect((await fetch(`${g.url}/cosyvoice/config`, { headers: { cookie: `cv3gw_session=${longer}.${sig}` } })).status).toBe(401);
    expect((await fetch(`${g.url}/cosyvoice/config`, { headers: { cookie: `cv3gw_session=${payload}.AAAA` } })).status).toBe(401);
  });

  it("sign-in goes back only to a path of this gateway", async () => {
    const res = await fetch(`${g.url}/sign-in`, { method: "POST", body: new URLSearchParams({ key: KEY, next: "//evil.example/" }), redirect: "manual" });
    expect(res.headers.get("location")).toBe("/");
  });
});

describe("without API keys", () => {
  const tmp = tempRoot("passthrough-open-");
  let box: StandinHandle;
  let g: RoutedGateway;
  beforeAll(async () => {
    [box] = (await startBoxes(tmp.root, 1)) as [StandinHandle];
    g = await startRoutedGateway(tmp.root, `routes:\n  - path: /cosyvoice/\n    kind: gradio\n    backends: ["${box.url}"]\n`);
  });
  afterAll(async () => {
    await g?.close();
    await box?.stop();
    tmp.cleanup();
  });

  it("the passthrough is open and there is no sign-in page", async () => {
    expect((await fetch(`${g.url}/cosyvoice/`, { headers: { accept: "text/html" } })).status).toBe(200);
    expect((await fetch(`${g.url}/sign-in`)).status).toBe(404);
  });
});
