import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "sdk",
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // Projects run one after another (each starts its own Python stand-ins): 2 cores.
    maxWorkers: 2,
    sequence: { groupOrder: 2 },
  },
});
