// How an OpenAI `voice` string finds one of the caller's voices: ids first, then names, then
// the operator's aliases, so a caller's own voice named like an alias wins; and which voice kind
// each UI can follow instructions with.
import { describe, expect, it } from "vitest";
import type { SpeechVoice } from "../src/doors/openai/speech-service.ts";
import { chooseVoice, instructionsRefusal, usableVoicesText } from "../src/doors/openai/voice-choice.ts";

const voices: SpeechVoice[] = [
  { id: "builtin:中文女", name: "中文女", kind: "builtin" },
  { id: "v_AAAAAAAAAAAAAAAAAAAAAA", name: "nova", kind: "cloned" },
  { id: "v_BBBBBBBBBBBBBBBBBBBBBB", name: "Ann", kind: "cloned" },
];
const aliases = { alloy: "中文女", nova: "builtin:中文女", shimmer: "v_BBBBBBBBBBBBBBBBBBBBBB", echo: "gone" };

describe("chooseVoice", () => {
  it.each([
    ["v_BBBBBBBBBBBBBBBBBBBBBB", "v_BBBBBBBBBBBBBBBBBBBBBB", undefined],
    ["builtin:中文女", "builtin:中文女", undefined],
    ["中文女", "builtin:中文女", undefined],
    ["Ann", "v_BBBBBBBBBBBBBBBBBBBBBB", undefined],
    ["ann", "v_BBBBBBBBBBBBBBBBBBBBBB", undefined],
    ["alloy", "builtin:中文女", "alloy"],
    ["ALLOY", "builtin:中文女", "alloy"],
    ["shimmer", "v_BBBBBBBBBBBBBBBBBBBBBB", "shimmer"],
    // The caller's own voice named "nova" comes before the alias "nova".
    ["nova", "v_AAAAAAAAAAAAAAAAAAAAAA", undefined],
  ])("%s -> %s", (asked, id, alias) => {
    const choice = chooseVoice(asked, voices, aliases);
    expect(choice?.voice.id).toBe(id);
    expect(choice?.alias).toBe(alias);
  });

  it("the { id } form matches ids only", () => {
    expect(chooseVoice({ id: "v_AAAAAAAAAAAAAAAAAAAAAA" }, voices, aliases)?.voice.name).toBe("nova");
    expect(chooseVoice({ id: "Ann" }, voices, aliases)).toBeUndefined();
    expect(chooseVoice({ id: "alloy" }, voices, aliases)).toBeUndefined();
  });

  it("unknown names and aliases to voices the caller cannot use find nothing", () => {
    expect(chooseVoice("fable", voices, aliases)).toBeUndefined();
    expect(chooseVoice("echo", voices, aliases)).toBeUndefined();
    // Another caller's voice is not in this caller's list, so an alias to it finds nothing.
    expect(chooseVoice("shimmer", voices.slice(0, 2), aliases)).toBeUndefined();
  });

  it("the error text lists usable voices and working aliases only", () => {
    const text = usableVoicesText(voices, aliases);
    expect(text).toBe("builtin:中文女, v_AAAAAAAAAAAAAAAAAAAAAA (nova), v_BBBBBBBBBBBBBBBBBBBBBB (Ann), alloy, nova, shimmer");
    expect(usableVoicesText([], {})).toContain("POST /v1/audio/voices");
  });
});

describe("instructionsRefusal", () => {
  const cv3en = { variant: "cv3-en", model: "cosyvoice3", modes: ["clone", "crossLingual", "instruct"], instructNeeds: "promptAudio" } as const;
  const officialCv1 = { variant: "official", model: "cosyvoice1", modes: ["pretrained", "clone", "crossLingual", "instruct"], instructNeeds: "voice" } as const;
  const officialCv3 = { variant: "official", model: "cosyvoice3", modes: ["clone", "crossLingual"] } as const;
  const builtin = voices[0]!;
  const cloned = voices[2]!;

  it("follows them where the UI can, with the kind of voice it needs", () => {
    expect(instructionsRefusal({ ...cv3en, modes: [...cv3en.modes] }, cloned)).toBeUndefined();
    expect(instructionsRefusal({ ...officialCv1, modes: [...officialCv1.modes] }, builtin)).toBeUndefined();
  });

  it("says why otherwise", () => {
    expect(instructionsRefusal({ ...officialCv3, modes: [...officialCv3.modes] }, cloned)).toMatch(/official web UI, cosyvoice3\) cannot follow instructions/);
    expect(instructionsRefusal({ ...officialCv1, modes: [...officialCv1.modes] }, cloned)).toMatch(/built-in speaker/);
    expect(instructionsRefusal({ ...cv3en, modes: [...cv3en.modes] }, builtin)).toMatch(/saved voice's prompt audio/);
  });
});
