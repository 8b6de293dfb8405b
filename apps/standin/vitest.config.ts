import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "standin",
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
    // One group for every project: files of all projects share four workers, so
    // no project waits for another's slowest file. The tests mostly wait (stand-in delays,
    // ffmpeg, sockets); each stand-in comes from the run's fork server (standin-zygote.ts).
    maxWorkers: 4,
    sequence: { groupOrder: 1 },
  },
});
