import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "deploy",
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    maxWorkers: 1,
    sequence: { groupOrder: 8 },
  },
});
