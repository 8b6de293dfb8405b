/**
 * An empty optional field means "absent", as a browser form sends it (issue 8): an empty or blank
 * promptText of a voice, an empty voice of an instruct request. A required field left empty is
 * still "required".
 */
import { describe, expect, it } from "vitest";
import { OptionalPromptTextSchema, SynthesisRequestSchema } from "../src/index.ts";

describe("empty optional fields", () => {
  it.each(["", "   ", undefined])("OptionalPromptTextSchema: %j is absent", (v) => {
    expect(OptionalPromptTextSchema.parse(v)).toBeUndefined();
  });
  it("OptionalPromptTextSchema keeps real text (trimmed) and still checks it", () => {
    expect(OptionalPromptTextSchema.parse("  Hello there. ")).toBe("Hello there.");
    expect(OptionalPromptTextSchema.safeParse("x".repeat(501)).success).toBe(false);
    expect(OptionalPromptTextSchema.safeParse(5).success).toBe(false);
  });
  it("an instruct request's empty voice is absent", () => {
    const r = SynthesisRequestSchema.parse({ mode: "instruct", text: "Hi.", instruct: "Calm.", voice: "" });
    expect(r).not.toHaveProperty("voice", "");
    expect((r as { voice?: string }).voice).toBeUndefined();
  });
  it("clone's promptText is required: empty is refused as required", () => {
    const r = SynthesisRequestSchema.safeParse({ mode: "clone", text: "Hi.", promptAudio: new Uint8Array(1), promptText: "" });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ path: ["promptText"], message: "promptText is required" });
  });
});
