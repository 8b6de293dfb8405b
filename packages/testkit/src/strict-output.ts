/**
 * Setup file of every vitest project (`setupFiles` in each vitest.config.ts): a test fails when
 * the process emits a warning (MaxListenersExceededWarning, an unsettled-promise or deprecation
 * warning...) or anything reaches the console while it runs. Output is a symptom: an abort
 * listener leak, a library printing the AbortError of a stream we closed, a debug line left in.
 * Fix its source; a test that means to print (none today) can take the console over with
 * `vi.spyOn(console, "log")`, which this wrapper then never sees.
 *
 * What happens outside a test (in beforeAll/afterAll) fails the file, through afterAll.
 */
import { format } from "node:util";
import { afterAll, afterEach } from "vitest";

const LEVELS = ["log", "info", "warn", "error", "debug", "trace"] as const;

// Installed once per worker: with `isolate: false` a worker runs this file again before each test
// file, and a second listener or console wrapper would count every line twice.
const KEY = Symbol.for("cosyvoice3.strict-output");
const shared = globalThis as unknown as Record<symbol, string[] | undefined>;
const stray: string[] = shared[KEY] ?? install();

function install(): string[] {
  const lines: string[] = [];
  shared[KEY] = lines;
  process.on("warning", (w: Error) => {
    lines.push(`process warning: ${w.name}: ${w.message}`);
  });
  for (const level of LEVELS) {
    // eslint-disable-next-line no-console -- wrapping the console is this file's job
    const original = console[level].bind(console);
    // eslint-disable-next-line no-console -- wrapping the console is this file's job
    console[level] = (...args: unknown[]) => {
      lines.push(`console.${level}: ${format(...args).slice(0, 2_000)}`);
      original(...args);
    };
  }
  return lines;
}

function check(where: string): void {
  if (stray.length === 0) return;
  const lines = stray.splice(0);
  throw new Error(`${where} printed ${lines.length} stray line(s) (fix their source; see packages/testkit/src/strict-output.ts):\n${lines.join("\n")}`);
}

afterEach(async () => {
  // A warning is emitted on the tick after its cause.
  await new Promise((r) => setImmediate(r));
  check("this test");
});
afterAll(async () => {
  await new Promise((r) => setImmediate(r));
  check("this file's set-up or tear-down");
});
