/**
 * nginx for tests and the bench: the scale-out profile's `deploy/scale-out/nginx.conf` run as it
 * is, in front of processes started here (its upstream servers and listen port replaced).
 * scripts/setup.sh installs Debian's nginx.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./standin.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
/** The scale-out profile's nginx configuration, as deployed. */
export const SCALE_OUT_NGINX_CONF = join(ROOT, "deploy/scale-out/nginx.conf");

/** The nginx binary, or undefined when it is not installed. */
export function nginxBinary(): string | undefined {
  return ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p));
}

/**
 * `deploy/scale-out/nginx.conf` made runnable here: its upstream servers replaced by `backends`
 * (keeping their `max_fails`/`fail_timeout`), its listen port by `port`, one worker in the
 * foreground, and every path inside `dir`.
 * @example writeFileSync(conf, localNginxConf(readFileSync(SCALE_OUT_NGINX_CONF, "utf8"), [gw1.url, gw2.url], port, dir));
 */
export function localNginxConf(conf: string, backends: readonly string[], port: number, dir: string): string {
  const first = /^\s*server\s+gateway-1:5000([^;]*);/m.exec(conf);
  if (!first) throw new Error("deploy/scale-out/nginx.conf: no `server gateway-1:5000 ...;` line");
  const params = first[1] ?? "";
  const upstream = backends.map((b) => `    server ${new URL(b).host}${params};`).join("\n");
  const out = conf
    .replace(/^(\s*server\s+gateway-\d+:5000[^;]*;\n)+/m, `${upstream}\n`)
    .replace(/listen 8080;/, `listen 127.0.0.1:${port};`)
    .replace(/worker_processes auto;/, `worker_processes 1;\ndaemon off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;`)
    .replace(/http \{/, `http {\n  client_body_temp_path ${dir}/body;\n  proxy_temp_path ${dir}/proxy;\n  fastcgi_temp_path ${dir}/fastcgi;\n  uwsgi_temp_path ${dir}/uwsgi;\n  scgi_temp_path ${dir}/scgi;`);
  if (out.includes("gateway-1:5000")) throw new Error("deploy/scale-out/nginx.conf: upstream servers not all replaced");
  return out;
}

/** A running nginx. */
export interface NginxHandle {
  url: string;
  port: number;
  pid: number;
  process: ChildProcess;
  /** What nginx wrote (stderr and its error log), for failure messages. */
  output(): string;
  /** SIGTERM (nginx's fast shutdown), SIGKILL after 3 s; resolves once it exited. */
  stop(): Promise<void>;
}

/**
 * Runs the scale-out profile's nginx (one worker) in front of `backends` and waits until its
 * `/lb-healthz` answers.
 * @example const lb = await startLoadBalancer([gw1.url, gw2.url]); await fetch(`${lb.url}/voices`);
 */
export async function startLoadBalancer(backends: readonly string[]): Promise<NginxHandle> {
  const bin = nginxBinary();
  if (!bin) throw new Error("nginx is not installed (scripts/setup.sh installs it)");
  const dir = mkdtempSync(join(tmpdir(), "scale-nginx-"));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
  writeFileSync(conf, localNginxConf(readFileSync(SCALE_OUT_NGINX_CONF, "utf8"), backends, port, dir));
  const child = spawn(bin, ["-c", conf, "-p", dir], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stderr?.on("data", (b: Buffer) => void (out += b.toString()));
  const output = () => out + (existsSync(join(dir, "error.log")) ? readFileSync(join(dir, "error.log"), "utf8") : "");
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 3_000);
    await exited;
    clearTimeout(t);
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}:\n${output()}`);
    try {
      if ((await fetch(`${url}/lb-healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nginx did not answer:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, port, pid: child.pid!, process: child, output, stop };
}
