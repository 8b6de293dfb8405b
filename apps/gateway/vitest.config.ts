import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

export default defineProject({
  // Tests run against the SDK's source, so they never see a stale dist/ build.
  resolve: { alias: { "cosyvoice3-sdk": fileURLToPath(new URL("../../packages/sdk/src/index.ts", import.meta.url)) } },
  test: {
    name: "gateway",
    // Fails a test on any process warning or console output (packages/testkit/src/strict-output.ts).
    // One worker runs many files (isolate: false): each file no longer pays for a fresh process
    // and a fresh import of the gateway, express, OpenTelemetry and the rest (about 1.5 s of CPU a
    // file). Tests leave no global state behind them (strict-output.ts installs itself once per worker).
    isolate: false,
    setupFiles: ["../../packages/testkit/src/strict-output.ts"],
    // One stand-in fork server for the whole run: gradio is imported once, not per stand-in.
    globalSetup: ["../../packages/testkit/src/standin-zygote.ts"],
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // One group for every project: files of all projects share four workers, so
    // no project waits for another's slowest file. The tests mostly wait (stand-in delays,
    // ffmpeg, sockets); each stand-in comes from the run's fork server (standin-zygote.ts).
    // Four on two cores: with three, a vitest-only run kept 1.5 cores busy on average (270 s);
    // with four, 237 s for the same CPU.
    maxWorkers: 4,
    sequence: { groupOrder: 1 },
  },
});
