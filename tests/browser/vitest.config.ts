import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineProject({
  // The browser tests run against the gateway's and SDK's sources, so they never see a stale dist/.
  resolve: {
    alias: {
      "cosyvoice3-sdk": src("../../packages/sdk/src/index.ts"),
      "cosyvoice3-gateway": src("../../apps/gateway/src/index.ts"),
    },
  },
  test: {
    name: "browser",
    // Fails a test on any process warning or console output (packages/testkit/src/strict-output.ts).
    // One worker runs many files (isolate: false): each file no longer pays for a fresh process
    // and a fresh import of the gateway, express, OpenTelemetry and the rest (about 1.5 s of CPU a
    // file). Tests leave no global state behind them (strict-output.ts installs itself once per worker).
    isolate: false,
    setupFiles: ["../../packages/testkit/src/strict-output.ts"],
    // One stand-in fork server for the whole run: gradio is imported once, not per stand-in.
    globalSetup: ["../../packages/testkit/src/standin-zygote.ts"],
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // With every other project (group 1; projects of one group must share their worker count).
    // As a group of their own after the rest, one file at a time, the browser files ended every
    // run with some 40 s at about one core of two; beside the others they fill the idle core.
    maxWorkers: 4,
    sequence: { groupOrder: 1 },
  },
});
