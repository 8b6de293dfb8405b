/**
 * The stack a browser talks to: the real stand-in web UI (a Gradio server) and the real gateway
 * started in this process through its published `startGateway` (the same server set-up
 * `main.ts` uses), on a free loopback port with a private data directory. Modelled on the fault
 * suite's helper; the few lines are copied rather than imported across test directories.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStandin, synthWav, type StandinHandle, type StandinOptions } from "@cosyvoice3/testkit";
import { defaultConfig, startGateway, type GatewayConfig } from "cosyvoice3-gateway";
import { pino } from "pino";

/** A stand-in and a gateway in front of it. */
export interface Stack {
  standin: StandinHandle;
  /** The gateway's origin, e.g. `http://127.0.0.1:40123`. */
  gatewayUrl: string;
  /** Structured log lines the gateway wrote (JSON strings), for failure messages. */
  logLines: string[];
  close(): Promise<void>;
}

/**
 * Starts a stand-in (official UI, CosyVoice3, unless `standinOptions` says otherwise) and a
 * gateway in front of it, rate limits lifted out of the way; `overrides` change the gateway's
 * configuration, `standinOptions` the stand-in's (variant, model, knobs such as `chunkDelayMs`).
 * @example
 * const stack = await startStack();
 * await fetch(`${stack.gatewayUrl}/voices`);
 */
export async function startStack(overrides: Partial<GatewayConfig> = {}, standinOptions: StandinOptions = {}): Promise<Stack> {
  const standin = await startStandin({ variant: "official", model: "cosyvoice3", ...standinOptions });
  const root = mkdtempSync(join(tmpdir(), "browser-gw-"));
  try {
    const dataDir = join(root, "data");
    mkdirSync(dataDir);
    const config = defaultConfig({
      port: 0,
      host: "127.0.0.1",
      dataDir,
      model: "cosyvoice3",
      cosyvoiceUrls: [standin.url],
      rateLimit: { windowMs: 60_000, synthesize: 1_000_000, upload: 1_000_000, read: 1_000_000 },
      shutdownGraceMs: 2_000,
      logLevel: "debug",
      ...overrides,
    });
    const logLines: string[] = [];
    const logger = pino({ level: config.logLevel }, { write: (line: string) => void logLines.push(line) });
    const running = await startGateway(config, logger);
    return {
      standin,
      gatewayUrl: running.url,
      logLines,
      async close() {
        await running.stop();
        await standin.stop();
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await standin.stop();
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

/** What `POST /voices` answers (the fields these tests read). */
export interface SavedVoice {
  id: string;
  name: string;
  kind: string;
}

/**
 * Saves a cloned voice through the gateway's REST API, from a prompt WAV made by `synthWav`.
 * @example
 * const voice = await cloneVoice(stack.gatewayUrl, "Ann");
 */
export async function cloneVoice(gatewayUrl: string, name: string, headers: Record<string, string> = {}): Promise<SavedVoice> {
  const form = new FormData();
  form.set("audio", new Blob([new Uint8Array(synthWav({ sampleRate: 24_000, seconds: 3, f0: 180 }))], { type: "audio/wav" }), "prompt.wav");
  form.set("name", name);
  form.set("promptText", "Hello, this is my voice for the browser test.");
  const res = await fetch(`${gatewayUrl}/voices`, { method: "POST", body: form, headers });
  const body = (await res.json()) as unknown;
  if (res.status !== 201) throw new Error(`POST /voices answered ${res.status}: ${JSON.stringify(body)}`);
  return body as SavedVoice;
}

/** What `POST /synthesize` answers (the fields these tests read). */
export interface SynthesisCreated {
  id: string;
  url: string;
  mimeType: string;
  /** @unit bytes */
  bytes: number;
  sampleRate: number;
  /** @unit milliseconds */
  durationMs: number;
}

/**
 * Synthesizes a clip through the gateway's REST API and returns its metadata.
 * @example
 * const clip = await synthesize(stack.gatewayUrl, voice.id, "Good morning.");
 */
export async function synthesize(gatewayUrl: string, voice: string, text: string): Promise<SynthesisCreated> {
  const res = await fetch(`${gatewayUrl}/synthesize`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text, voice, seed: 7 }),
  });
  const body = (await res.json()) as unknown;
  if (res.status !== 201) throw new Error(`POST /synthesize answered ${res.status}: ${JSON.stringify(body)}`);
  return body as SynthesisCreated;
}
