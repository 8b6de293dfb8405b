import { defineConfig } from "vitest/config";
import LongestFirst from "./vitest.sequencer.ts";

export default defineConfig({
  test: {
    projects: ["apps/standin", "packages/sdk", "apps/gateway", "tests/fault-suite", "tests/browser", "packages/client", "packages/cli", "deploy"],
    // The longest files start first, whatever their project (vitest.sequencer.ts).
    sequence: { sequencer: LongestFirst },
  },
});
