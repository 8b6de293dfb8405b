import { synthWav, voiceForm } from "@cosyvoice3/testkit";
import { expect } from "vitest";
import type { CheckedResponse } from "./harness.ts";

/**
 * Saves a voice through `POST /voices` from three seconds of synthetic speech at pitch `f0`
 * (16 kHz unless `sampleRate` says otherwise); the test fails unless the gateway answers 201. Returns the voice's id.
 * @example const id = await saveVoice(gw, { name: "Kay", promptText: "I like long walks.", f0: 200 });
 */
export async function saveVoice(gw: { api(path: string, init?: RequestInit): Promise<CheckedResponse> }, voice: { name: string; promptText?: string; f0: number; sampleRate?: number }): Promise<string> {
  const saved = await gw.api("/voices", {
    method: "POST",
    body: voiceForm({ audio: synthWav({ sampleRate: voice.sampleRate ?? 16_000, seconds: 3, f0: voice.f0 }), name: voice.name, ...(voice.promptText !== undefined ? { promptText: voice.promptText } : {}) }),
  });
  expect(saved.status).toBe(201);
  return saved.json.id as string;
}
