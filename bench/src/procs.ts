/**
 * Processes the bench measures: the built gateway as its own process (so its RSS and its event
 * loop are its own), and nginx with one worker serving a file from a temp dir.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@cosyvoice3/testkit";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** A running child process that answers HTTP. */
export interface Served {
  url: string;
  pid: number;
  process: ChildProcess;
  /** Resident set size now. @unit MiB */
  rssMb(): number;
  stop(): Promise<void>;
}

/** RSS of a process from /proc. @unit MiB */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function waitFor(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}:\n${output()}`);
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(t);
  };
}

/**
 * Starts the built gateway (`apps/gateway/dist/main.js`) with the given environment on top of
 * bench defaults: loopback, a fresh data dir, quiet logs, rate limits out of the way, no synthesis cache.
 * @example const gw = await startGatewayProcess({ COSYVOICE_URL: standin.url, COSYVOICE_MODEL: "cosyvoice1" });
 */
export async function startGatewayProcess(env: Record<string, string>): Promise<Served> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "bench-gw-"));
  // Launched as the start script and the image launch it (young generation capped: RSS).
  // BENCH_GATEWAY_NODE_ARGS: Node flags NODE_OPTIONS refuses, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the gateway.
  const extra = (process.env["BENCH_GATEWAY_NODE_ARGS"] ?? "").split(" ").filter((a) => a !== "");
  const child = spawn(process.execPath, ["--max-semi-space-size=4", ...extra, join(ROOT, "apps/gateway/dist/main.js")], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      RATE_LIMIT_SYNTHESIZE: "1000000",
      RATE_LIMIT_UPLOAD: "1000000",
      RATE_LIMIT_READ: "1000000",
      // Figures that repeat one request measure the backend path: the synthesis cache would answer
      // them instead (the cache figure turns it on).
      CACHE_MAX_BYTES: "0",
      // Node flags of the gateway process, to compare launch settings (e.g. --max-semi-space-size).
      ...(process.env["BENCH_GATEWAY_NODE_OPTIONS"] ? { NODE_OPTIONS: process.env["BENCH_GATEWAY_NODE_OPTIONS"] } : {}),
      ...env,
    },
  });
  let out = "";
  const keep = (b: Buffer) => void (out = (out + b.toString()).slice(-20_000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/healthz`, child, () => out);
  return { url, pid: child.pid!, process: child, rssMb: () => rssMb(child.pid!), stop: stopper(child) };
}

/** The nginx binary, installed from Debian when missing and we are root; undefined otherwise. */
export function ensureNginx(log: (s: string) => void): string | undefined {
  const find = () => {
    for (const p of ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]) {
      try {
        execFileSync(p, ["-v"], { stdio: "ignore" });
        return p;
      } catch {
        // not there
      }
    }
    return undefined;
  };
  const found = find();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    log("nginx is not installed and we are not root: skipping the nginx baseline");
    return undefined;
  }
  log("installing nginx from Debian (apt-get install -y nginx)");
  try {
    execFileSync("apt-get", ["install", "-y", "nginx"], { stdio: "ignore", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    // The package starts the system service on port 80; the bench runs its own instance.
    execFileSync("sh", ["-c", "service nginx stop >/dev/null 2>&1 || true"]);
  } catch (err) {
    log(`apt-get install nginx failed: ${(err as Error).message}`);
  }
  return find();
}

/**
 * Writes `dir/nginx.conf` (one worker in the foreground, access log off, every temp path inside
 * `dir`, the given `http` directives and `server` block), starts nginx on it and waits until
 * `probePath` answers on the returned port.
 */
async function runNginx(bin: string, dir: string, http: (port: number) => string, probePath: string): Promise<Served> {
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${http(port)}
}
`,
  );
  const child = spawn(bin, ["-c", conf, "-p", dir], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stderr?.on("data", (b: Buffer) => void (out += b.toString()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}${probePath}`, child, () => out + readSafe(join(dir, "error.log")));
  return { url, pid: child.pid!, process: child, rssMb: () => rssMb(child.pid!), stop: stopper(child) };
}

/**
 * Runs nginx with one worker, access log off, serving `bytes` at `/audio/<name>` from a temp dir
 * (sendfile on: what a production nginx serving static audio does).
 * @example const ng = await startNginx("/usr/sbin/nginx", "a_x", wav, "audio/wav");
 */
export async function startNginx(bin: string, name: string, bytes: Uint8Array, mimeType: string): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), "bench-nginx-"));
  const www = join(dir, "www");
  mkdirSync(join(www, "audio"), { recursive: true });
  writeFileSync(join(www, "audio", name), bytes);
  // The worker runs as an unprivileged user when started by root: let it read the file.
  for (const p of [dir, www, join(www, "audio")]) chmodSync(p, 0o755);
  chmodSync(join(www, "audio", name), 0o644);
  return runNginx(
    bin,
    dir,
    (port) => `  sendfile on;
  tcp_nopush on;
  server {
    listen 127.0.0.1:${port};
    root ${www};
    location /audio/ { default_type ${mimeType}; }
  }`,
    `/audio/${name}`,
  );
}

function readSafe(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

/**
 * Runs nginx with one worker as a reverse proxy: `location <prefix>` -> `proxy_pass <upstream>/`
 * over keep-alive HTTP/1.1 connections, buffering off (an event stream must pass at once, as
 * the gateway passes it), access log off.
 * @example const ng = await startNginxProxy("/usr/sbin/nginx", "/cosyvoice/", standin.url);
 */
export async function startNginxProxy(bin: string, prefix: string, upstream: string): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), "bench-nginx-proxy-"));
  chmodSync(dir, 0o755);
  const up = new URL(upstream);
  return runNginx(
    bin,
    dir,
    (port) => `  upstream backend { server ${up.host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location ${prefix} {
      proxy_pass http://backend/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-Host $host${prefix.replace(/\/$/, "")};
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_buffering off;
    }
  }`,
    `${prefix}config`,
  );
}
