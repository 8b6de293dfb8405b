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
import { forgetJob, narrate, NARRATE_FORMATS, type NarrateFormat } from "./narrate.ts";

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
    .command("narrate")
    .description("narrate a long text file (a chapter, a book) as a job on the gateway; Ctrl-C stops waiting, the same command resumes")
    .argument("<file>", "the text, UTF-8 (up to the gateway's MAX_JOB_CHARS)")
    .requiredOption("-v, --voice <id|name>", "a voice id or name from `cosyvoice voices`")
    .option("-o, --out <file>", "where to write the audio (default: the text file's name with the format's extension)")
    .addOption(new Option("-f, --format <format>", "the narration's format (default: from --out's extension, else mp3)").choices(NARRATE_FORMATS))
    .addOption(new Option("--mode <mode>", "synthesis mode (default: chosen from the voice)").choices(["pretrained", "clone", "crossLingual", "instruct"]))
    .addOption(new Option("--seed <n>", "random seed").argParser(number("--seed", 0, 4_294_967_295, true)))
    .addOption(new Option("--speed <x>", "speaking speed, 0.5 to 2").argParser(number("--speed", 0.5, 2)))
    .option("--captions <file>", "also write captions: .srt for SubRip, else WebVTT")
    .option("--job <id>", "follow this job (j_...) instead of submitting the text again")
    .option("--cancel", "on Ctrl-C cancel the job on the gateway instead of leaving it running")
    .action(async (file: string, o: { voice: string; out?: string; format?: NarrateFormat; mode?: Mode; seed?: number; speed?: number; captions?: string; job?: string; cancel?: boolean }, cmd: Command) => {
      const g = setup(cmd);
      if (!(target instanceof GatewayTarget)) throw new CliError("narrate runs as a job on a gateway (--gateway), not straight at a UI", EXIT.usage);
      const ext = o.out?.split(".").pop()?.toLowerCase();
      const format: NarrateFormat = o.format ?? ((NARRATE_FORMATS as readonly string[]).includes(ext ?? "") ? (ext as NarrateFormat) : "mp3");
      const outName = o.out ?? `${file.replace(/\.[^./\\]+$/, "")}.${format}`;
      if (outName === "-" && io.stdout.isTTY) throw new CliError("refusing to write audio to a terminal: redirect stdout or use --out FILE", EXIT.usage);
      const voice = await target.resolveVoice(o.voice, io.signal);
      const p = reporter(g, 1);
      const out = await openOutput(outName, io.stdout);
      try {
        const { job, resumed } = await narrate(
          target.api,
          g.gateway,
          {
            file,
            voice,
            format,
            out: outName,
            ...(o.mode ? { mode: o.mode } : {}),
            ...(o.seed !== undefined ? { seed: o.seed } : {}),
            ...(o.speed !== undefined ? { speed: o.speed } : {}),
            ...(o.captions !== undefined ? { captions: o.captions } : {}),
            ...(o.job !== undefined ? { job: o.job } : {}),
          },
          out,
          { signal: io.signal, progress: p, cancelOnInterrupt: o.cancel === true },
        );
        await out.commit();
        await forgetJob(outName);
        p.finish(`wrote ${out.name}: ${((job.durationMs ?? 0) / 1000).toFixed(1)} s, ${kb(out.bytes)}, ${job.segments.total} segments${resumed ? " (resumed)" : ""}${o.captions ? `; captions ${o.captions}` : ""}`);
        if (json) print({ file: outName === "-" ? null : outName, job }, "");
      } finally {
        await out.abort();
      }
    });

  program
    .command("clone")
    .description("save a cloned voice on the gateway from prompt audio; prints its id")
    .argument("<file>", "prompt audio: WAV, FLAC, Ogg, MP3 or M4A, at least 16 kHz, at most 30 s")
    .requiredOption("-n, --name <name>", "a display name")
    .option("-t, --prompt-text <text>", "what the audio says (clone mode needs it; leave it out when the gateway transcribes)")
    .option("-c, --consent <id>", "the speaker's consent (cons_..., from `cosyvoice consent add`), where the gateway requires one")
    .action(async (file: string, o: { name: string; promptText?: string; consent?: string }, cmd: Command) => {
      const g = setup(cmd);
      const p = reporter(g);
      // Without a transcript the voice can only do clone mode if the gateway transcribes it.
      if (o.promptText === undefined && target instanceof GatewayTarget && !(await target.transcribes(io.signal)) && !g.quiet) {
        io.stderr.write("note: no --prompt-text and the gateway has no speech recognition: the voice will do cross-lingual and instruct, not clone mode\n");
      }
      const voice = await target!.clone({ file, name: o.name, ...(o.promptText !== undefined ? { promptText: o.promptText } : {}), ...(o.consent !== undefined ? { consent: o.consent } : {}) }, { signal: io.signal, progress: p });
      p.finish(`saved voice ${voice.id} (${voice.name})`);
      if (!g.quiet && voice.promptTextSource === "asr") io.stderr.write(`the gateway heard: ${JSON.stringify(voice.promptText)}\n`);
      if (!g.quiet && voice.warning !== undefined) io.stderr.write(`warning: ${voice.warning}\n`);
      print(voice, `${voice.id}\n`);
    });

  const consent = program.command("consent").description("voice consents: a speaker's recorded agreement to be cloned");
  consent
    .command("add")
    .description("record a speaker's consent on the gateway; prints its id (for `cosyvoice clone --consent`)")
    .argument("<file>", "the recording: mp3, wav, ogg, aac, flac, webm or mp4, at most 10 MiB")
    .requiredOption("-n, --name <name>", "a label")
    .requiredOption("-l, --language <tag>", "BCP 47 tag of what is said, e.g. en-US")
    .action(async (file: string, o: { name: string; language: string }, cmd: Command) => {
      const g = setup(cmd);
      const p = reporter(g);
      const c = await target!.consent({ file, name: o.name, language: o.language }, { signal: io.signal, progress: p });
      p.finish(`recorded consent ${c.id} (${c.name}, ${c.language})`);
      if (!g.quiet && c.transcript !== undefined) io.stderr.write(`the gateway heard: ${JSON.stringify(c.transcript)}\n`);
      print(c, `${c.id}\n`);
    });

  program
    .command("voices")
    .description("list the voices: the gateway's built-in and saved ones, or a UI's speakers")
    .action(async (_o: unknown, cmd: Command) => {
      const g = setup(cmd);
      const rows = await target!.voices({ signal: io.signal, progress: reporter({ ...g, quiet: true }) });
      const text = rows.length === 0 ? "" : rows.map((v) => [v.id, v.kind, v.name, v.promptText ?? ""].join("\t").trimEnd()).join("\n") + "\n";
      print(rows, text);
      if (rows.length === 0 && !g.quiet) io.stderr.write("no voices yet: save one with `cosyvoice clone FILE --name NAME [--prompt-text TEXT] [--consent ID]`\n");
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
      // A CliError says itself what was interrupted (narrate: the job goes on, how to resume).
      const line = exitCode === EXIT.interrupted && !(err instanceof CliError) ? (pipeClosed ? "stdout was closed; cancelled" : "cancelled") : message;
      io.stderr.write(json ? `${JSON.stringify({ error: { message: line, kind, exitCode } })}\n` : `cosyvoice: ${line}\n`);
    }
  } finally {
    await (target as Target | undefined)?.close().catch(() => undefined);
  }
  return exitCode;
}
