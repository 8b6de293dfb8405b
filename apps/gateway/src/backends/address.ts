/**
 * A backend's address as configuration writes it (`COSYVOICE_URL`, the routes file): a URL whose
 * scheme may name the box's kind, which then needs no probing.
 * - `gradio+http://host:7860`, `fastapi+http://host:50000`, `openai+http://host:8091/v1`
 * - `grpc://host:50000` (gRPC answers no HTTP/1.1 probe, so it is always named)
 * - `http(s)://...`: the kind is detected by probing (see `detect.ts`).
 */
import type { BackendKind } from "./port.ts";

/** A parsed address: the URL to call and the kind, when the scheme named it. */
export interface BackendAddress {
  url: string;
  kind: BackendKind | undefined;
}

/** The scheme prefixes, one per kind that has one. */
const PREFIXES: Record<string, BackendKind> = {
  gradio: "gradio",
  fastapi: "cosyvoice-fastapi",
  "cosyvoice-fastapi": "cosyvoice-fastapi",
  grpc: "cosyvoice-grpc",
  openai: "openai",
};

/**
 * @example parseBackendAddress("fastapi+http://gpu-1:50000") // { url: "http://gpu-1:50000", kind: "cosyvoice-fastapi" }
 * @example parseBackendAddress("grpc://gpu-2:50000") // { url: "grpc://gpu-2:50000", kind: "cosyvoice-grpc" }
 */
export function parseBackendAddress(address: string): BackendAddress {
  const m = /^([a-z-]+)\+(https?:\/\/.*)$/i.exec(address);
  if (m) {
    const kind = PREFIXES[(m[1] as string).toLowerCase()];
    if (kind !== undefined) return { url: m[2] as string, kind };
  }
  if (/^grpc:\/\//i.test(address)) return { url: address, kind: "cosyvoice-grpc" };
  return { url: address, kind: undefined };
}

/**
 * Why an address cannot be used, or undefined when it can.
 * @example addressProblem("ftp://x") // "must be http(s)://, kind+http(s):// (gradio, fastapi, openai) or grpc://host:port"
 */
export function addressProblem(address: string): string | undefined {
  const { url, kind } = parseBackendAddress(address);
  try {
    const u = new URL(url);
    if (kind === "cosyvoice-grpc") return u.hostname !== "" && u.port !== "" ? undefined : "a grpc:// address needs host:port";
    if ((u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "") return undefined;
  } catch {
    // not a URL
  }
  return "must be http(s)://, kind+http(s):// (gradio, fastapi, openai) or grpc://host:port";
}

/** The scheme prefix that names each kind. */
const PREFIX_OF: Record<BackendKind, string> = { gradio: "gradio", "cosyvoice-fastapi": "fastapi", "cosyvoice-grpc": "grpc", openai: "openai" };

/**
 * The address that names a URL's kind (the inverse of {@link parseBackendAddress}).
 * @example backendAddress("http://gpu-1:50000", "cosyvoice-fastapi") // "fastapi+http://gpu-1:50000"
 */
export function backendAddress(url: string, kind: BackendKind | undefined): string {
  if (kind === undefined || kind === "cosyvoice-grpc") return url;
  return `${PREFIX_OF[kind]}+${url}`;
}
