import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "faults",
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 90_000,
  },
});
