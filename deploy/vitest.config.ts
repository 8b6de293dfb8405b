import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "deploy",
    // Fails a test on any process warning or console output (packages/testkit/src/strict-output.ts).
    setupFiles: ["../packages/testkit/src/strict-output.ts"],
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    maxWorkers: 1,
    sequence: { groupOrder: 8 },
  },
});
