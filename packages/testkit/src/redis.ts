import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./standin.ts";

/** Options of {@link startRedis}. */
export interface RedisOptions {
  /** @default a free port */
  port?: number;
  /** The server binary. @default $REDIS_SERVER or `redis-server` on the PATH (scripts/setup.sh installs it) */
  binary?: string;
  /** How long to wait for PING to answer. @default 15_000 @unit milliseconds */
  startTimeoutMs?: number;
  /**
   * The server's working directory. Given, it is kept on stop, so a server started again on it
   * (same port) finds its append-only file: how tests restart Redis after an outage.
   * @default a fresh temp dir, removed on stop
   */
  dir?: string;
  /** Persistence: the append-only file with this fsync policy; off by default (tests rarely need it). */
  appendFsync?: "always" | "everysec";
}

/** A running throwaway redis-server. */
export interface RedisHandle {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** The server's process id (for /proc figures). */
  pid: number;
  /** Output the server wrote so far, for failure messages. */
  output(): string;
  /** Stops the server (SIGTERM, then SIGKILL after 3 s), waits for it to exit, removes its directory. */
  stop(): Promise<void>;
}

/** Sends one inline command and resolves with the first reply line (or rejects on a socket error). */
function ask(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let reply = "";
    socket.setTimeout(1_000, () => socket.destroy(new Error("no reply")));
    socket.once("connect", () => socket.write(`${command}\r\n`));
    socket.on("data", (b) => {
      reply += b.toString();
      if (reply.includes("\r\n")) {
        socket.end();
        resolve(reply.split("\r\n")[0] ?? "");
      }
    });
    socket.once("error", reject);
  });
}

/**
 * Starts a private redis-server on loopback with persistence off (`--save '' --appendonly no`,
 * its working directory a fresh temp dir; see {@link RedisOptions.dir} and `appendFsync`), and
 * waits until it answers PING. Tests start their
 * own and never assume one is running.
 * @example
 * const redis = await startRedis();
 * const gw = await startTestGateway({ ..., config: { store: "redis", redisUrl: redis.url } });
 * await redis.stop();
 */
export async function startRedis(opts: RedisOptions = {}): Promise<RedisHandle> {
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "redis-"));
  const binary = opts.binary ?? process.env["REDIS_SERVER"] ?? "redis-server";
  const persistence = opts.appendFsync ? ["--appendonly", "yes", "--appendfsync", opts.appendFsync] : ["--appendonly", "no"];
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...persistence, "--dir", dir];
  const child = spawn(binary, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const keep = (b: Buffer) => {
    out += b.toString();
    if (out.length > 100_000) out = out.slice(-50_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let spawnError: Error | undefined;
  child.once("error", (err) => {
    spawnError = err;
  });
  const exited = new Promise<void>((res) => child.once("close", () => res()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && !spawnError) {
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
    }
    if (opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  for (;;) {
    if (spawnError) {
      await stop();
      throw new Error(`cannot start ${binary} (run scripts/setup.sh, which installs redis-server): ${spawnError.message}`);
    }
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`redis-server exited with ${child.exitCode}:\n${out}`);
    }
    const pong = await ask(port, "PING").catch(() => "");
    if (pong === "+PONG") break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer PING within the start timeout:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid!, output: () => out, stop };
}
