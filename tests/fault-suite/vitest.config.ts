import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineProject({
  // The suite runs against the gateway's and SDK's sources, so it never sees a stale dist/.
  resolve: {
    alias: {
      "cosyvoice3-sdk": src("../../packages/sdk/src/index.ts"),
      "cosyvoice3-gateway": src("../../apps/gateway/src/index.ts"),
    },
  },
  test: {
    name: "faults",
    // Fails a test on any process warning or console output (packages/testkit/src/strict-output.ts).
    setupFiles: ["../../packages/testkit/src/strict-output.ts"],
    // One stand-in fork server for the whole run: gradio is imported once, not per stand-in.
    globalSetup: ["../../packages/testkit/src/standin-zygote.ts"],
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 90_000,
    // Each file starts its own stand-in (a Python process); two at a time suits a 2-core box.
    maxWorkers: 2,
    // Projects run one after another (each starts its own Python stand-ins): 2 cores.
    sequence: { groupOrder: 4 },
  },
});
