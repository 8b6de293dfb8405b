// The kind of each backend host, in both routes-file formats (ours: a backend's `kind`; Ocelot's:
// a host's `Kind`, our extension), reaches the REST API's pool as the scheme-named address, and
// `COSYVOICE_URL` takes the same scheme prefixes; a kind nobody knows is refused at its path.
import { describe, expect, it } from "vitest";
import { backendAddress, parseBackendAddress } from "../src/backends/address.ts";
import { loadConfig } from "../src/platform/config.ts";
import { parseRoutesFile, RoutesFileError } from "../src/platform/routes-file/load.ts";

describe("a backend's kind in the routes file", () => {
  it("ours: `kind` on a backend", () => {
    const file = parseRoutesFile(
      JSON.stringify({ routes: [{ path: "/tts/", synthesis: true, backends: [{ url: "http://gpu-1:50000", kind: "cosyvoice-fastapi" }, "http://gpu-2:7860"] }] }),
      "routes.json",
    );
    const backends = file.routes[0]?.backends ?? [];
    expect(backends.map((b) => backendAddress(b.url, b.kind))).toEqual(["fastapi+http://gpu-1:50000", "http://gpu-2:7860"]);
  });

  it("Ocelot's: `Kind` on a host", () => {
    const file = parseRoutesFile(
      JSON.stringify({
        Routes: [
          {
            UpstreamPathTemplate: "/tts/{everything}",
            DownstreamPathTemplate: "/{everything}",
            DownstreamScheme: "http",
            DownstreamHostAndPorts: [{ Host: "gpu-1", Port: 50000, Kind: "fastapi" }, { Host: "gpu-2", Port: 7860, Kind: "gradio" }],
          },
        ],
      }),
      "ocelot.json",
    );
    expect(file.routes[0]?.backends.map((b) => [b.url, b.kind])).toEqual([
      ["http://gpu-1:50000", "cosyvoice-fastapi"],
      ["http://gpu-2:7860", "gradio"],
    ]);
  });

  it("an unknown Kind is refused at its path", () => {
    const text = JSON.stringify({
      Routes: [{ UpstreamPathTemplate: "/tts/{everything}", DownstreamPathTemplate: "/{everything}", DownstreamHostAndPorts: [{ Host: "gpu-1", Port: 1, Kind: "triton" }] }],
    });
    expect(() => parseRoutesFile(text, "ocelot.json")).toThrow(RoutesFileError);
    try {
      parseRoutesFile(text, "ocelot.json");
    } catch (err) {
      expect((err as RoutesFileError).issues.map((i) => i.path)).toContain("Routes[0].DownstreamHostAndPorts[0].Kind");
    }
  });
});

describe("COSYVOICE_URL's scheme prefixes", () => {
  it("name the kind, or leave it to a probe", () => {
    expect(parseBackendAddress("fastapi+http://gpu-1:50000")).toEqual({ url: "http://gpu-1:50000", kind: "cosyvoice-fastapi" });
    expect(parseBackendAddress("gradio+https://gpu-1/ui")).toEqual({ url: "https://gpu-1/ui", kind: "gradio" });
    expect(parseBackendAddress("openai+http://gpu-1:8091/v1")).toEqual({ url: "http://gpu-1:8091/v1", kind: "openai" });
    expect(parseBackendAddress("grpc://gpu-1:50000")).toEqual({ url: "grpc://gpu-1:50000", kind: "cosyvoice-grpc" });
    expect(parseBackendAddress("http://gpu-1:7860")).toEqual({ url: "http://gpu-1:7860", kind: undefined });
  });

  it("are accepted by the configuration, and a wrong scheme is not", () => {
    expect(loadConfig({ COSYVOICE_URL: "fastapi+http://a:50000, grpc://b:50000, http://c:7860" }).cosyvoiceUrls).toHaveLength(3);
    expect(() => loadConfig({ COSYVOICE_URL: "ftp://a:1" })).toThrow(/COSYVOICE_URL/);
    expect(() => loadConfig({ COSYVOICE_URL: "grpc://nohostport" })).toThrow(/COSYVOICE_URL/);
  });
});
