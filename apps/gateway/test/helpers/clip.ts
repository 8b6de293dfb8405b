import { parseWav } from "@cosyvoice3/testkit";
import { expect } from "vitest";
import type { TestGateway } from "./harness.ts";

/** Fetches a stored clip whole and by Range, and checks both against each other. */
export async function expectFetchableClip(gw: TestGateway, url: string, sampleRate: number): Promise<void> {
  const whole = await gw.api(url);
  expect(whole.status).toBe(200);
  expect(whole.headers.get("content-type")).toBe("audio/wav");
  const info = parseWav(Buffer.from(whole.bytes));
  expect(info.sampleRate).toBe(sampleRate);
  expect(info.durationMs).toBeGreaterThan(200);
  const part = await gw.api(url, { headers: { range: "bytes=44-1043" } });
  expect(part.status).toBe(206);
  expect(part.headers.get("content-range")).toBe(`bytes 44-1043/${whole.bytes.length}`);
  expect(Buffer.from(part.bytes).equals(Buffer.from(whole.bytes.subarray(44, 1044)))).toBe(true);
}

/** True when the bytes start with an ADTS (AAC) frame header. */
export function isAdts(bytes: Uint8Array): boolean {
  return bytes.length > 7 && bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xf6) === 0xf0;
}
