/**
 * Progress on stderr: a bar (cli-progress) when stderr is a terminal, plain lines otherwise (logs,
 * pipes, CI), nothing with --quiet. stdout stays free for the audio (`--out -`) or `--json`.
 */
import cliProgress from "cli-progress";

/** What a command reports while it works. */
export type ProgressEvent =
  | { kind: "waiting"; detail: string }
  | { kind: "queued"; position: number; queueSize: number; etaMs?: number }
  | { kind: "started" }
  /** One chunk the model produced (straight at a UI). */
  | { kind: "chunk"; index: number; durationMs: number }
  /** Audio received so far (a stream through the gateway). */
  | { kind: "received"; durationMs: number; bytes: number }
  /** A narration job's segments finished, of all. */
  | { kind: "segments"; done: number; total: number; status: string };

export interface ProgressReporter {
  update(event: ProgressEvent): void;
  /** Ends the display (a bar is cleared); `line` is printed as the last line, unless quiet. */
  finish(line?: string): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Where progress goes. @default process.stderr */
  stream?: NodeJS.WriteStream;
  /** No progress at all. @default false */
  quiet?: boolean;
  /** Bar on a terminal, lines otherwise. @default "auto" */
  style?: "auto" | "bar" | "lines";
  /** Expected number of chunks (sentences), for the bar's length. @default 1 */
  expectedChunks?: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function describe(e: ProgressEvent): string {
  switch (e.kind) {
    case "waiting":
      return `waiting: ${e.detail}`;
    case "queued":
      // The SDK counts from 0 (next); people count from 1.
      return `queued: position ${e.position + 1} of ${Math.max(e.queueSize, e.position + 1)}${e.etaMs !== undefined ? `, eta ${seconds(e.etaMs)}` : ""}`;
    case "started":
      return "started";
    case "chunk":
      return `chunk ${e.index + 1}: ${seconds(e.durationMs)} of audio`;
    case "received":
      return `received ${seconds(e.durationMs)} of audio`;
    case "segments":
      return `${e.status}: ${e.done} of ${e.total} segments`;
  }
}

class LineReporter implements ProgressReporter {
  constructor(private readonly stream: NodeJS.WriteStream) {}
  update(event: ProgressEvent): void {
    this.stream.write(`${describe(event)}\n`);
  }
  finish(line?: string): void {
    if (line) this.stream.write(`${line}\n`);
  }
}

class BarReporter implements ProgressReporter {
  private readonly bar: cliProgress.SingleBar;
  private total: number;
  private value = 0;
  private audioMs = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    expected: number,
  ) {
    this.total = Math.max(1, expected);
    this.bar = new cliProgress.SingleBar(
      { stream, format: " {bar} {status}", hideCursor: true, clearOnComplete: true, barsize: 24, fps: 10 },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(this.total, 0, { status: "connecting" });
  }

  update(event: ProgressEvent): void {
    if (event.kind === "chunk") {
      this.value = event.index + 1;
      this.audioMs += event.durationMs;
    } else if (event.kind === "segments") {
      this.value = event.done;
      if (event.total !== this.total) {
        this.total = Math.max(1, event.total);
        this.bar.setTotal(this.total);
      }
    } else if (event.kind === "received") {
      // Over HTTP the chunk boundaries are not visible: each read is a step, capped below the end.
      this.value = Math.min(this.total - 0.5, this.value + 1);
      this.audioMs = event.durationMs;
    }
    if (this.value > this.total) {
      this.total = this.value;
      this.bar.setTotal(this.total);
    }
    const status = event.kind === "chunk" || event.kind === "received" ? `${describe(event)}, ${seconds(this.audioMs)} in all` : describe(event);
    // A line reporter prints each event; the bar shows the latest.
    this.bar.update(this.value, { status });
  }

  finish(line?: string): void {
    this.bar.update(this.total);
    this.bar.stop();
    if (line) this.stream.write(`${line}\n`);
  }
}

const silent: ProgressReporter = { update() {}, finish() {} };

/**
 * The reporter for this run.
 * @example
 * const progress = createProgress({ quiet: opts.quiet, expectedChunks: 3 });
 * progress.update({ kind: "started" });
 * progress.finish("wrote hello.wav: 2.1 s");
 */
export function createProgress(options: ProgressOptions = {}): ProgressReporter {
  if (options.quiet) return silent;
  const stream = options.stream ?? process.stderr;
  const style = options.style ?? "auto";
  if (style === "bar" || (style === "auto" && stream.isTTY)) return new BarReporter(stream, options.expectedChunks ?? 1);
  return new LineReporter(stream);
}

/**
 * How many chunks a text is likely to give: its sentences, as the models split them.
 * @example expectedChunks("One. Two! Three?") // 3
 */
export function expectedChunks(text: string): number {
  return Math.max(1, text.split(/(?<=[.!?;。！？；…])\s*/u).filter((s) => /[\p{L}\p{N}]/u.test(s)).length);
}
