/** Typed instruct controls become the CosyVoice3 instruction sentence; free text is wrapped once. */
import { describe, expect, it } from "vitest";
import { DIALECTS, InstructSchema, buildInstruction } from "../src/index.ts";

describe("buildInstruction", () => {
  it("one dialect", () => {
    expect(buildInstruction({ dialect: "sichuan" })).toBe("You are a helpful assistant. 请用四川话表达。<|endofprompt|>");
  });
  it("every dialect is phrased 请用<dialect>表达。", () => {
    for (const [key, zh] of Object.entries(DIALECTS)) {
      expect(buildInstruction({ dialect: key as keyof typeof DIALECTS })).toContain(`请用${zh}表达。`);
    }
  });
  it("controls combine in a fixed order: dialect, emotion, volume, pace, role", () => {
    expect(buildInstruction({ role: "robot", pace: "slow", emotion: "angry", dialect: "henan" })).toBe(
      "You are a helpful assistant. 请用河南话表达。请非常生气地说一句话。请用尽可能慢地语速说一句话。你可以尝试用机器人的方式解答吗？<|endofprompt|>",
    );
  });
  it("free text is wrapped; text that already ends the prompt is left alone", () => {
    expect(buildInstruction("Speak like a pirate.")).toBe("You are a helpful assistant. Speak like a pirate.<|endofprompt|>");
    expect(buildInstruction("请用广东话表达。<|endofprompt|>")).toBe("请用广东话表达。<|endofprompt|>");
  });
  it("the schema refuses empty controls and unknown keys", () => {
    expect(InstructSchema.safeParse({}).success).toBe(false);
    expect(InstructSchema.safeParse({ dialect: "klingon" }).success).toBe(false);
    expect(InstructSchema.safeParse({ emotion: "happy", extra: 1 }).success).toBe(false);
  });
});
