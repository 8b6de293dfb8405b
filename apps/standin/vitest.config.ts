import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "standin",
    // Fails a test on any process warning or console output (packages/testkit/src/strict-output.ts).
    setupFiles: ["../../packages/testkit/src/strict-output.ts"],
    // One stand-in fork server for the whole run: gradio is imported once, not per stand-in.
    globalSetup: ["../../packages/testkit/src/standin-zygote.ts"],
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // Projects run one after another (each starts its own Python stand-ins): 2 cores.
    maxWorkers: 2,
    sequence: { groupOrder: 1 },
  },
});
