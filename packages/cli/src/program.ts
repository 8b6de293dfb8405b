/**
 * The `cosyvoice` command line: flags (commander), one target (gateway or UI), progress on
 * stderr, audio or `--json` on stdout, one-line errors with documented exit codes, and Ctrl-C
 * that cancels the job upstream before exiting.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { DIALECTS } from "cosyvoice3-sdk";
import type { InstructControls, Mode } from "cosyvoice3-client";
import { CliError, EXIT, classify, type ExitCode } from "./exit-codes.ts";
import { openOutput, type AudioOutput } from "./output.ts";
import { createProgress, expectedChunks, type ProgressReporter } from "./progress.ts";
import { FORMATS, GatewayTarget, UiTarget, type Format, type SayInput, type Target } from "./targets.ts";

/** The CLI's version (the package's). */
export const VERSION = "0.1.0";
/** Where `npm start` runs the gateway: the default when neither --gateway nor --ui is given. */
export const DEFAULT_GATEWAY = "http://127.0.0.1:5000";

/** What {@link run} reads and writes; injected so tests can run it in-process. */
export interface CliIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: Record<string, string | undefined>;
  /** Aborts the running command (Ctrl-C). */
  signal: AbortSignal;
}

interface GlobalOptions {
  gateway: string;
  apiKey?: string;
  ui?: string;
  model: "cosyvoice3" | "cosyvoice2" | "cosyvoice1";
  timeout?: number;
  quiet?: boolean;
  json?: boolean;
  progress: "auto" | "bar" | "lines";
}

interface SayOptions {
  voice?: string;
  out?: string;
  format: Format;
  seed?: number;
  speed?: number;
  mode?: Mode;
  instruct?: string;
  dialect?: InstructControls["dialect"];
  emotion?: InstructControls["emotion"];
  pace?: InstructControls["pace"];
  volume?: InstructControls["volume"];
  role?: InstructControls["role"];
  promptAudio?: string;
  promptText?: string;
}

const number = (what: string, min: number, max: number, integer = false) => (value: string) => {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new InvalidArgumentError(`${what} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}`);
  }
  return n;
};

function instructOf(o: SayOptions): SayInput["instruct"] {
  const controls: InstructControls = {
    ...(o.dialect ? { dialect: o.dialect } : {}),
    ...(o.emotion ? { emotion: o.emotion } : {}),
    ...(o.pace ? { pace: o.pace } : {}),
    ...(o.volume ? { volume: o.volume } : {}),
    ...(o.role ? { role: o.role } : {}),
  };
  const typed = Object.keys(controls).length > 0;
  if (typed && o.instruct !== undefined) throw new CliError("--instruct (free text) and the typed controls (--dialect, --emotion, ...) are either-or", EXIT.usage);
  return typed ? controls : o.instruct;
}

function defaultOutName(format: Format): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
  return `cosyvoice-${stamp}.${format}`;
}

const kb = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} kB`);

/**
 * Runs the CLI with `argv` (without `node` and the script) and resolves to the exit code.
 * Never throws and never prints a stack: every failure is one line on stderr.
 * @example process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal });
 */
export async function run(argv: string[], io: CliIo): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.ok;
  let target: Target | undefined;
  let json = false;
  let progress: ProgressReporter | undefined;

  const program = new Command("cosyvoice")
    .description("Speak with CosyVoice3: through a gateway (default, " + DEFAULT_GATEWAY + ") or straight at a CosyVoice web UI (--ui).")
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: (s, write) => write(`cosyvoice: ${s.replace(/^error: /, "").trimEnd()}\n`),
    })
    .showSuggestionAfterError(true)
    .addOption(new Option("--gateway <url>", "the gateway's URL").env("COSYVOICE_GATEWAY").default(DEFAULT_GATEWAY))
    .addOption(new Option("--api-key <key>", "API key for the gateway").env("COSYVOICE_API_KEY"))
    .addOption(new Option("--ui <url>", "talk straight to a CosyVoice web UI (Gradio) through the SDK; wins over --gateway").env("COSYVOICE_UI"))
    .addOption(new Option("--model <family>", "model the UI loaded (with --ui)").choices(["cosyvoice3", "cosyvoice2", "cosyvoice1"]).default("cosyvoice3"))
    .addOption(new Option("--timeout <seconds>", "deadline of one synthesis with --ui").argParser(number("--timeout", 1, 3600)))
    .option("-q, --quiet", "no progress on stderr")
    .option("--json", "print the result as JSON on stdout")
    .addOption(new Option("--progress <style>", "progress display").choices(["auto", "bar", "lines"]).default("auto"));

  const setup = (cmd: Command): GlobalOptions => {
    const g = cmd.optsWithGlobals<GlobalOptions>();
    json = g.json === true;
    target = g.ui ? new UiTarget(g.ui, { model: g.model, ...(g.timeout ? { timeoutMs: g.timeout * 1000 } : {}) }) : new GatewayTarget(g.gateway, g.apiKey);
    return g;
  };
  const reporter = (g: GlobalOptions, expected = 1) => {
    progress = createProgress({ quiet: g.quiet === true, style: g.progress, stream: io.stderr, expectedChunks: expected });
    return progress;
  };
  const print = (value: unknown, text: string) => void io.stdout.write(json ? `${JSON.stringify(value)}\n` : text);

  program
    .command("say")
    .description("synthesize TEXT and write the audio (a file, or - for stdout)")
    .argument("<text>", "what to say")
    .option("-v, --voice <id|name>", "gateway: a voice id or name from `cosyvoice voices`; --ui: a built-in speaker")
    .option("-o, --out <file>", "where to write the audio; - for stdout (default: cosyvoice-<time>.<format>)")
    .addOption(
      new Option("-f, --format <format>", "wav: the whole clip; aac: streamed as it is generated; mp3, opus (Ogg), flac, pcm (s16le mono): the clip converted by the gateway")
        .choices(FORMATS)
        .default("wav"),
    )
    .addOption(new Option("--mode <mode>", "synthesis mode (default: chosen from the voice and flags)").choices(["pretrained", "clone", "crossLingual", "instruct"]))
    .addOption(new Option("--seed <n>", "random seed (same seed, same audio)").argParser(number("--seed", 0, 4_294_967_295, true)))
    .addOption(new Option("--speed <x>", "speaking speed, 0.5 to 2").argParser(number("--speed", 0.5, 2)))
    .option("--instruct <text>", "free-text instruction (instruct mode)")
    .addOption(new Option("--dialect <dialect>", "speak in a dialect (instruct)").choices(Object.keys(DIALECTS)))
    .addOption(new Option("--emotion <emotion>", "instruct control").choices(["happy", "sad", "angry"]))
    .addOption(new Option("--pace <pace>", "instruct control").choices(["slow", "fast"]))
    .addOption(new Option("--volume <volume>", "instruct control").choices(["loud", "soft"]))
    .addOption(new Option("--role <role>", "instruct control").choices(["peppaPig", "robot"]))
    .option("--prompt-audio <file>", "with --ui: the voice to clone (WAV, FLAC, MP3, ...)")
    .option("--prompt-text <text>", "with --ui: what the prompt audio says (clone mode)")
    .action(async (text: string, o: SayOptions, cmd: Command) => {
      const g = setup(cmd);
      const outName = o.out ?? defaultOutName(o.format);
      if (outName === "-" && json) throw new CliError("--json prints the result on stdout, so it cannot go with --out -", EXIT.usage);
      if (outName === "-" && io.stdout.isTTY) throw new CliError("refusing to write audio to a terminal: redirect stdout or use --out FILE", EXIT.usage);
      const instruct = instructOf(o);
      const input: SayInput = {
        text,
        format: o.format,
        ...(o.voice !== undefined ? { voice: o.voice } : {}),
        ...(o.mode ? { mode: o.mode } : {}),
        ...(instruct !== undefined ? { instruct } : {}),
        ...(o.speed !== undefined ? { speed: o.speed } : {}),
        ...(o.seed !== undefined ? { seed: o.seed } : {}),
        ...(o.promptAudio !== undefined ? { promptAudio: o.promptAudio } : {}),
        ...(o.promptText !== undefined ? { promptText: o.promptText } : {}),
      };
      const out: AudioOutput = await openOutput(outName, io.stdout);
      try {
        const p = reporter(g, expectedChunks(text));
        const result = await target!.say(input, out, { signal: io.signal, progress: p });
        await out.commit();
        p.finish(`wrote ${out.name}: ${(result.durationMs / 1000).toFixed(1)} s, ${kb(result.bytes)}${result.audioId ? ` (audio ${result.audioId})` : ""}`);
        if (json) print({ file: outName === "-" ? null : outName, ...result }, "");
      } finally {
        await out.abort();
      }
    });

  program
    .command("clone")
    .description("save a cloned voice on the gateway from prompt audio; prints its id")
    .argument("<file>", "prompt audio: WAV, FLAC, Ogg, MP3 or M4A, at least 16 kHz, at most 30 s")
    .requiredOption("-n, --name <name>", "a display name")
    .option("-t, --prompt-text <text>", "what the audio says (needed for clone mode)")
    .action(async (file: string, o: { name: string; promptText?: string }, cmd: Command) => {
      const g = setup(cmd);
      const p = reporter(g);
      const voice = await target!.clone({ file, name: o.name, ...(o.promptText !== undefined ? { promptText: o.promptText } : {}) }, { signal: io.signal, progress: p });
      p.finish(`saved voice ${voice.id} (${voice.name})`);
      print(voice, `${voice.id}\n`);
    });

  program
    .command("voices")
    .description("list the voices: the gateway's built-in and saved ones, or a UI's speakers")
    .action(async (_o: unknown, cmd: Command) => {
      const g = setup(cmd);
      const rows = await target!.voices({ signal: io.signal, progress: reporter({ ...g, quiet: true }) });
      const text = rows.length === 0 ? "" : rows.map((v) => [v.id, v.kind, v.name, v.promptText ?? ""].join("\t").trimEnd()).join("\n") + "\n";
      print(rows, text);
      if (rows.length === 0 && !g.quiet) io.stderr.write("no voices yet: save one with `cosyvoice clone FILE --name NAME --prompt-text TEXT`\n");
    });

  program
    .command("rm")
    .description("delete a saved voice")
    .argument("<id>", "the voice's id (v_...)")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = setup(cmd);
      await target!.remove(id, { signal: io.signal, progress: reporter({ ...g, quiet: true }) });
      print({ deleted: id }, "");
      if (!g.quiet) io.stderr.write(`deleted ${id}\n`);
    });

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; every parse error has been printed already, as one line.
      exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else {
      const { message, exitCode: code, kind } = classify(io.signal.aborted ? (err instanceof CliError ? err : io.signal.reason ?? err) : err);
      exitCode = io.signal.aborted && code !== EXIT.usage ? EXIT.interrupted : code;
      progress?.finish();
      const pipeClosed = (io.signal.reason as NodeJS.ErrnoException | undefined)?.code === "EPIPE";
      const line = exitCode === EXIT.interrupted ? (pipeClosed ? "stdout was closed; cancelled" : "cancelled") : message;
      io.stderr.write(json ? `${JSON.stringify({ error: { message: line, kind, exitCode } })}\n` : `cosyvoice: ${line}\n`);
    }
  } finally {
    await (target as Target | undefined)?.close().catch(() => undefined);
  }
  return exitCode;
}
