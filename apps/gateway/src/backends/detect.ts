/**
 * A box whose kind was not named: the first use probes what answers at the URL, then the
 * matching driver takes over (the kind of a URL does not change; a failed probe is retried on
 * the next use). Probes, in order: FastAPI's `/openapi.json` listing `/inference_zero_shot`; an
 * OpenAI server's `/v1/models` (`{ object: "list" }`); else a Gradio UI (the SDK recognises it
 * from `/config`, or says it is none).
 */
import { ConnectionError } from "cosyvoice3-sdk";
import { DRIVERS, type DriverOptions } from "./drivers.ts";
import type { BackendKind, SynthesisBackend } from "./port.ts";

/** Bound of one probe request. @unit milliseconds */
const PROBE_MS = 5_000;

async function getJson(url: string, doFetch: typeof fetch): Promise<unknown> {
  const res = await doFetch(url, { signal: AbortSignal.timeout(PROBE_MS), headers: { accept: "application/json" } });
  if (!res.ok || !(res.headers.get("content-type") ?? "").includes("json")) {
    await res.body?.cancel();
    return undefined;
  }
  return res.json().catch(() => undefined);
}

/**
 * The kind of box at `url`, by probing.
 * @throws ConnectionError when nothing answers
 * @example await detectKind("http://gpu-1:50000") // "cosyvoice-fastapi"
 */
export async function detectKind(url: string, doFetch: typeof fetch = globalThis.fetch): Promise<BackendKind> {
  const base = url.replace(/\/+$/, "");
  try {
    const doc = (await getJson(`${base}/openapi.json`, doFetch)) as { paths?: Record<string, unknown> } | undefined;
    if (doc?.paths && "/inference_zero_shot" in doc.paths) return "cosyvoice-fastapi";
    if (DRIVERS.openai) {
      const models = (await getJson(base.endsWith("/v1") ? `${base}/models` : `${base}/v1/models`, doFetch)) as { object?: unknown } | undefined;
      if (models?.object === "list") return "openai";
    }
  } catch (err) {
    throw new ConnectionError(`Could not reach the backend to learn its kind`, { cause: err, accepted: false });
  }
  return "gradio";
}

/**
 * @example const box = detectingBackend("http://gpu-1:50000", { model: "cosyvoice3", timeoutMs: 60_000 });
 */
export function detectingBackend(url: string, options: DriverOptions, onKind?: (kind: BackendKind) => void): SynthesisBackend {
  let driver: Promise<SynthesisBackend> | undefined;
  const get = (): Promise<SynthesisBackend> => {
    if (!driver) {
      const p = detectKind(url, options.fetch).then((kind) => {
        const driver = DRIVERS[kind];
        if (!driver) throw new Error(`no driver for ${kind}`);
        onKind?.(kind);
        return driver.make(url, options);
      });
      driver = p;
      p.catch(() => {
        if (driver === p) driver = undefined;
      });
    }
    return driver;
  };
  return {
    info: async () => (await get()).info(),
    probe: async () => (await get()).probe(),
    listVoices: async () => (await get()).listVoices(),
    synthesize: async (request, opts) => (await get()).synthesize(request, opts),
    async *stream(request, opts) {
      yield* (await get()).stream(request, opts);
    },
    async close() {
      const d = driver;
      driver = undefined;
      if (d) await d.then((b) => b.close()).catch(() => undefined);
    },
  };
}

/**
 * The driver for one configured address: the named kind's, or one that detects it.
 * @example backendFor(parseBackendAddress("fastapi+http://gpu-1:50000"), options)
 */
export function backendFor(address: { url: string; kind: BackendKind | undefined }, options: DriverOptions): SynthesisBackend {
  if (address.kind === undefined) return detectingBackend(address.url, options);
  const driver = DRIVERS[address.kind];
  if (!driver) throw new Error(`backends of kind ${address.kind} are not supported by this build`);
  return driver.make(address.url, options);
}
