import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

export default defineProject({
  // Tests run against the SDK's source, so they never see a stale dist/ build.
  resolve: { alias: { "cosyvoice3-sdk": fileURLToPath(new URL("../../packages/sdk/src/index.ts", import.meta.url)) } },
  test: {
    name: "gateway",
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // Projects run one after another (each starts its own Python stand-ins): 2 cores.
    maxWorkers: 2,
    sequence: { groupOrder: 3 },
  },
});
