import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: ["apps/standin", "packages/sdk", "apps/gateway", "tests/fault-suite", "tests/browser", "packages/client", "packages/cli", "deploy"],
  },
});
