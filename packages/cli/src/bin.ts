#!/usr/bin/env node
/**
 * The `cosyvoice` binary. Ctrl-C aborts the running command, which cancels the job on the
 * gateway or UI before the process exits (130); a second Ctrl-C exits at once.
 */
import { EXIT } from "./exit-codes.ts";
import { run } from "./program.ts";

const interrupt = new AbortController();
process.on("SIGINT", () => {
  if (interrupt.signal.aborted) process.exit(EXIT.interrupted);
  interrupt.abort(new Error("interrupted"));
});
// A closed stdout (e.g. `| head`) ends the run quietly instead of an EPIPE stack.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") interrupt.abort(err);
});

process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: interrupt.signal });
