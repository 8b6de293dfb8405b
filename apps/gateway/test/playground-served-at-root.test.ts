/**
 * The playground page: served at `/` with its files under `/playground/`, locked to its own
 * origin by a Content-Security-Policy, gone with `PLAYGROUND=false` (the API's 404 problem), and
 * every control in it has an accessible name (a `<label for>` or an `aria-label`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/platform/config.ts";
import type { AddressInfo } from "node:net";
import express, { type Request, type Response } from "express";
import { PLAYGROUND_DIR, playgroundRoutes } from "../src/doors/playground/index.ts";
import { FakeBackend } from "./helpers/fake-backend.ts";
import { startTestGateway, type TestGateway } from "./helpers/harness.ts";

describe("the playground at /", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ backend: new FakeBackend() });
  });
  afterAll(() => gw.close());

  it("GET / is the page, with a CSP that allows only its own origin and blob: media", async () => {
    const res = await fetch(gw.url + "/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("media-src 'self' blob:");
    expect(csp).not.toContain("unsafe-inline");
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/playground/app.js"></script>');
  });

  it("serves its script, module and stylesheet with their types; an unknown file is the API's 404", async () => {
    for (const [file, type] of [["app.js", "text/javascript"], ["wav.js", "text/javascript"], ["style.css", "text/css"]] as const) {
      const res = await fetch(`${gw.url}/playground/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get("content-type")).toContain(type);
    }
    const missing = await gw.api("/playground/nope.js");
    expect(missing.status).toBe(404);
    expect(missing.json.type).toBe("urn:cosyvoice3-gateway:problem:not-found");
  });

  it("PLAYGROUND=false leaves it out: / is a 404 problem", async () => {
    const off = await startTestGateway({ backend: new FakeBackend(), config: { playground: false } });
    try {
      const res = await off.api("/");
      expect(res.status).toBe(404);
      expect((await off.api("/playground/app.js")).status).toBe(404);
    } finally {
      await off.close();
    }
    expect(loadConfig({ PLAYGROUND: "false" }).playground).toBe(false);
    expect(loadConfig({}).playground).toBe(true);
    expect(() => loadConfig({ PLAYGROUND: "perhaps" })).toThrow(/PLAYGROUND/);
  });
});

describe("giving way to a catch-all route", () => {
  it("when `active` says no, / and /playground/ go on to what comes after (here the 404)", async () => {
    let on = true;
    const app = express();
    app.use(playgroundRoutes({ active: () => on }));
    app.use((_req: Request, res: Response) => void res.status(418).end("next"));
    const server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(url + "/")).status).toBe(200);
      on = false;
      expect((await fetch(url + "/")).status).toBe(418);
      expect((await fetch(url + "/playground/app.js")).status).toBe(418);
    } finally {
      server.close();
    }
  });
});

describe("the page's accessibility", () => {
  const html = readFileSync(join(PLAYGROUND_DIR, "index.html"), "utf8");
  const labelled = new Set([...html.matchAll(/<label[^>]*\bfor="([^"]+)"/g)].map((m) => m[1]));

  it("every input, select, textarea, button and audio has a label or an aria-label", () => {
    const controls = [...html.matchAll(/<(input|select|textarea|button|audio)\b([^>]*)>/g)];
    expect(controls.length).toBeGreaterThan(20);
    const unnamed = controls.filter(([, tag, attrs]) => {
      const id = /\bid="([^"]+)"/.exec(attrs ?? "")?.[1];
      if (/\baria-label(ledby)?="/.test(attrs ?? "")) return false;
      if (id && labelled.has(id)) return false;
      // A button's text is its name.
      if (tag === "button") return false;
      return true;
    });
    expect(unnamed.map((m) => m[0])).toEqual([]);
    const buttons = [...html.matchAll(/<button\b[^>]*>([^<]*)<\/button>/g)];
    expect(buttons.every((b) => (b[1] ?? "").trim() !== "")).toBe(true);
  });

  it("every label points at an element that exists", () => {
    const ids = new Set([...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]));
    expect([...labelled].filter((id) => !ids.has(id))).toEqual([]);
  });
});
