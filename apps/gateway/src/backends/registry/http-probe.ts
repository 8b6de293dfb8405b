/**
 * The check of a box no driver speaks for (a passthrough-only service): `GET <url>/config`. Any
 * HTTP answer below 500 means the box is up; a 200 JSON with `dependencies` and `components`
 * means it is a Gradio app (the passthrough then routes Gradio's requests by session).
 */
import { request, type Agent } from "node:http";
import { request as httpsRequest } from "node:https";
import { ConnectionError } from "cosyvoice3-sdk";
import { redactUrl } from "./redact.ts";

/** Largest `/config` read. @unit bytes */
const MAX_CONFIG = 4 * 1024 * 1024;

/**
 * @throws ConnectionError when nothing answers, or a 5xx does
 * @example const { gradio } = await httpProbe("http://gpu-1:7860", agent, 5_000);
 */
export function httpProbe(url: string, agent: Agent, timeoutMs: number): Promise<{ gradio: boolean }> {
  return new Promise((resolve, reject) => {
    const target = new URL(`${url}/config`);
    const down = (why: string) => reject(new ConnectionError(`${redactUrl(url)}: ${why}`, { accepted: false }));
    const req = (target.protocol === "https:" ? httpsRequest : request)(target, { agent, timeout: timeoutMs, headers: { accept: "application/json" } }, (res) => {
      if ((res.statusCode ?? 500) >= 500) {
        res.resume();
        return down(`status ${res.statusCode}`);
      }
      if (res.statusCode !== 200 || !String(res.headers["content-type"] ?? "").includes("json")) {
        res.resume();
        return resolve({ gradio: false });
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size <= MAX_CONFIG) chunks.push(c);
      });
      res.on("end", () => {
        try {
          const cfg = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
          resolve({ gradio: Array.isArray(cfg["dependencies"]) && Array.isArray(cfg["components"]) });
        } catch {
          resolve({ gradio: false });
        }
      });
      res.on("error", (err) => down(err.message));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", (err: NodeJS.ErrnoException) => down(err.code ?? err.message));
    req.end();
  });
}
