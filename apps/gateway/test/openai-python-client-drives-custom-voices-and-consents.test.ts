// The official Python `openai` client (3.x, pinned in test/python/requirements.txt, venv built by
// scripts/setup.sh) drives every custom-voice and voice-consent call against the gateway in front
// of the real stand-in UI: create, page, read, rename and delete consents; a voice under a
// consent; speech with voice {id}, whole and streamed; delete. Two keys never see each other's
// consents or voices, and each mistake is a BadRequestError/NotFoundError naming its parameter.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { synthWav } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SDK_READY, startFullStack, type FullStack } from "./helpers/full-stack.ts";

const PYTHON = resolve(import.meta.dirname, "python/.venv/bin/python");
const SCRIPT = resolve(import.meta.dirname, "python/drive_custom_voices.py");
const KEY_A = "key-a-0123456789abcdef";
const KEY_B = "key-b-0123456789abcdef";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Report = Record<string, any>;

describe.skipIf(!SDK_READY || !existsSync(PYTHON))("the official Python openai client on custom voices and consents", () => {
  let stack: FullStack;
  let report: Report;
  beforeAll(async () => {
    stack = await startFullStack({ variant: "official", model: "cosyvoice3" }, { apiKeys: [KEY_A, KEY_B] });
    const dir = mkdtempSync(join(tmpdir(), "py-openai-"));
    const consent = join(dir, "consent.wav");
    const prompt = join(dir, "prompt.wav");
    writeFileSync(consent, synthWav({ sampleRate: 16_000, seconds: 2, f0: 150 }));
    writeFileSync(prompt, synthWav({ sampleRate: 16_000, seconds: 3, f0: 110 }));
    const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, `${stack.gw.url}/v1`, KEY_A, KEY_B, consent, prompt], { timeout: 120_000 });
    report = JSON.parse(stdout) as Report;
  }, 180_000);
  afterAll(() => stack?.close());

  it("is openai-python 3.x", () => {
    expect(report["version"]).toMatch(/^3\./);
  });

  it("creates a consent in OpenAI's shape", () => {
    expect(report["consent"]).toMatchObject({ object: "audio.voice_consent", name: "Ann", language: "en-US" });
    expect(report["consent"].id).toMatch(/^cons_/);
    expect(typeof report["consent"].created_at).toBe("number");
  });

  it("pages consents newest first with has_more, and the client's auto-pagination follows `after`", () => {
    const [c1, c2, c3] = report["created_ids"] as string[];
    expect(report["page1"]).toEqual({ ids: [c3, c2], has_more: true });
    expect(report["all_ids"]).toEqual([c3, c2, c1]);
  });

  it("retrieves and renames", () => {
    expect(report["retrieved"].id).toBe(report["consent"].id);
    expect(report["renamed"]).toMatchObject({ id: report["consent"].id, name: "Ann (signed)" });
  });

  it("another key sees no consent of this one: empty list, 404 on read, rename and delete", () => {
    expect(report["b_list"]).toEqual([]);
    for (const k of ["b_retrieve", "b_update", "b_delete"]) expect(report[k], k).toMatchObject({ class: "NotFoundError", status: 404 });
  });

  it.each([
    ["bad_language", "language"],
    ["bad_recording", "recording"],
    ["bad_limit", "limit"],
    ["rename_empty", "name"],
    ["b_voice_with_a_consent", "consent"],
    ["voice_empty_consent", "consent"],
    ["voice_unknown_consent", "consent"],
    ["voice_prompt_type", "type"],
    ["voice_not_audio", "audio_sample"],
    ["b_speech", "voice"],
  ])("%s: BadRequestError naming %s, in OpenAI's error shape", (k, param) => {
    expect(report[k]).toMatchObject({ class: "BadRequestError", status: 400 });
    expect(report[k].error).toMatchObject({ type: "invalid_request_error", param });
    expect(Object.keys(report[k].error).sort()).toEqual(["code", "message", "param", "type"]);
  });

  it("the prompt-voice refusal says why and what to do instead", () => {
    expect(report["voice_prompt_type"].error.message).toMatch(/clones voices from recorded audio/);
    expect(report["voice_prompt_type"].error.code).toBe("unsupported_voice_type");
  });

  it("creates a voice under the consent: audio.voice, type audio_sample, the same record REST sees", async () => {
    expect(report["voice"]).toMatchObject({ object: "audio.voice", name: "Ann voice", type: "audio_sample" });
    expect(report["voice"].id).toMatch(/^v_/);
    const rest = await stack.gw.api(`/voices/${report["voice"].id}`, { headers: { authorization: `Bearer ${KEY_A}` } });
    // Deleted by the end of the script: the REST side agrees it is gone.
    expect(rest.status).toBe(404);
  });

  it("speaks with voice {id}, whole and streamed (instructions \"None\" is no instruction)", () => {
    expect(report["speech_type"]).toBe("audio/wav");
    expect(report["speech_bytes"]).toBeGreaterThan(1000);
    expect(report["streamed_bytes"]).toBeGreaterThan(500);
  });

  it("deletes: not by another key, once by the owner, then 404", () => {
    expect(report["b_voice_delete"]).toMatchObject({ class: "NotFoundError", status: 404 });
    expect(report["voice_deleted"]).toEqual({ id: report["voice"].id, deleted: true, object: "audio.voice.deleted" });
    expect(report["voice_delete_again"]).toMatchObject({ class: "NotFoundError", status: 404 });
    expect(report["consent_deleted"]).toEqual({ id: report["consent"].id, deleted: true, object: "audio.voice_consent" });
    expect(report["consent_gone"]).toMatchObject({ class: "NotFoundError", status: 404 });
  });
});
