/**
 * The SDK as a TypeScript app outside this repository gets it: `pnpm pack` makes a tarball with
 * real version ranges (no `workspace:` or `catalog:`), plain npm installs it into a fresh
 * project in a temp dir, the project typechecks against its `.d.ts` under NodeNext, and the
 * README's examples (connect, then one per mode) run as written against the stand-in.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startStandin, synthWav, type StandinHandle } from "@cosyvoice3/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../../..");
const README = readFileSync(resolve(import.meta.dirname, "../README.md"), "utf8");
const TSX = join(ROOT, "packages/sdk/node_modules/.bin/tsx");
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");

/** The ```ts blocks of a README section, in order. */
function tsBlocks(section: string): string[] {
  const start = README.indexOf(`## ${section}\n`);
  const end = README.indexOf("\n## ", start + 1);
  return [...README.slice(start, end === -1 ? undefined : end).matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
}

/** Blocks as one module: imports hoisted and de-duplicated, each block in its own scope. */
function program(blocks: string[], url: string, shared = ""): string {
  const imports = new Set<string>();
  const bodies = blocks.map((b) =>
    b
      .split("\n")
      .filter((line) => (/^import /.test(line) ? (imports.add(line), false) : true))
      .join("\n")
      .replaceAll("http://127.0.0.1:7860", url),
  );
  return [...imports, shared, ...bodies.map((b, i) => (i === 0 && shared === "" ? b : `{\n${b}\n}`))].join("\n");
}

/** Runs a command; a failure carries what it printed. */
function run(file: string, args: string[], opts: { cwd?: string; timeout?: number } = {}): string {
  try {
    return execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...opts });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
}

let work: string;
let cv3en: StandinHandle;
let official: StandinHandle;
let tarball: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "packed-sdk-"));
  [cv3en, official] = await Promise.all([startStandin({ variant: "cv3-en", model: "cosyvoice3" }), startStandin({ variant: "official", model: "cosyvoice1" })]);
  // As the README says, with npm only: the root script sets up, then pnpm packs (building first when stale).
  const out = execFileSync("npm", ["run", "-s", "pack:sdk", "--", work], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  tarball = out.trim().split("\n").filter((l) => l.endsWith(".tgz")).pop() ?? "";
}, 180_000);

afterAll(async () => {
  await Promise.all([cv3en?.stop(), official?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

describe("the packed cosyvoice3-sdk", () => {
  it("has real version ranges, its files and its exports", () => {
    expect(tarball).toMatch(/cosyvoice3-sdk-\d+\.\d+\.\d+\.tgz$/);
    const files = execFileSync("tar", ["tzf", tarball], { encoding: "utf8" }).split("\n");
    expect(files).toEqual(expect.arrayContaining(["package/package.json", "package/README.md", "package/dist/index.js", "package/dist/index.d.ts", "package/src/index.ts"]));
    expect(files.filter((f) => /\/test\/|\.test\./.test(f))).toEqual([]);
    const pkg = JSON.parse(execFileSync("tar", ["xzOf", tarball, "package/package.json"], { encoding: "utf8" })) as Record<string, Record<string, string>>;
    for (const [name, range] of Object.entries(pkg["dependencies"] ?? {})) expect(range, name).toMatch(/^[\^~]?\d+\.\d+\.\d+/);
    expect(pkg["exports"]).toEqual({ ".": { types: "./dist/index.d.ts", import: "./dist/index.js" } });
  });

  it("installs with plain npm into a fresh project outside the workspace, typechecks, and runs the README's examples", () => {
    const app = join(work, "my-app");
    execFileSync("mkdir", ["-p", app]);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "my-app", private: true, type: "module" }));
    // A TypeScript app on Node has Node's types; the SDK brings its own.
    run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", tarball, "@types/node@20"], { cwd: app, timeout: 170_000 });
    expect(JSON.parse(readFileSync(join(app, "node_modules/cosyvoice3-sdk/package.json"), "utf8")).name).toBe("cosyvoice3-sdk");

    for (const name of ["prompt.wav", "chinese-speaker.wav"]) writeFileSync(join(app, name), synthWav({ sampleRate: 24_000, seconds: 3 }));
    const [connect] = tsBlocks("Connect");
    const [clone, cross, pretrained, instruct] = tsBlocks("One example per mode");
    expect([connect, clone, cross, pretrained, instruct].every((b) => b !== undefined && b.length > 0)).toBe(true);
    writeFileSync(
      join(app, "modes.ts"),
      program([connect!, clone!, cross!, instruct!], cv3en.url) + "\nawait cv.close();\nconsole.log('modes ok');\n",
    );
    writeFileSync(join(app, "pretrained.ts"), program([pretrained!], official.url, 'import { CosyVoice } from "cosyvoice3-sdk";\nimport { writeFile } from "node:fs/promises";') + "\nconsole.log('pretrained ok');\n");
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true, types: ["node"] }, include: ["*.ts"] }),
    );
    // The app's own typecheck sees the SDK's types (a wrong field in a request would fail here).
    run(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd: app });

    const modes = run(TSX, ["modes.ts"], { cwd: app, timeout: 120_000 });
    expect(modes).toContain("variant: 'cv3-en'");
    expect(modes).toContain("modes ok");
    expect(readFileSync(join(app, "clone.wav")).subarray(0, 4).toString()).toBe("RIFF");
    expect(readFileSync(join(app, "cross.wav")).subarray(0, 4).toString()).toBe("RIFF");
    expect(run(TSX, ["pretrained.ts"], { cwd: app, timeout: 60_000 })).toContain("pretrained ok");
    expect(readFileSync(join(app, "sft.wav")).subarray(0, 4).toString()).toBe("RIFF");
  }, 300_000);
});
