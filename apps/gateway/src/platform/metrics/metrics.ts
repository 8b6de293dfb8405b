/**
 * The gateway's Prometheus metrics (prom-client), in a registry of their own so each app (and
 * each test) counts alone. Every label set is bounded: routes are templates (`/voices/:id`),
 * backends are pool names (`backend-1`), outcomes and reasons are short fixed words.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Prefix of every metric name. @default "cosyvoice_gateway_" */
  prefix?: string;
  /** Also collect Node's process metrics (CPU, memory, event loop lag, GC, handles). @default true */
  processMetrics?: boolean;
}

/** What one backend looks like to the gauges, read at scrape time. */
export interface BackendGaugeSource {
  name: string;
  running: number;
  waiting: number;
  /** `up`, `down` or `unknown`. */
  state: string;
  /** The breaker's state: `closed`, `half-open` or `open`; absent without a breaker. */
  breaker?: string;
  /** What it is (`gradio`, `cosyvoice-fastapi`, `asr`, `http`, ...), once known. */
  kind?: string;
  /** The doors that send it work (`rest`, `v1`, `jobs`, `passthrough`, `asr`). */
  doors?: readonly string[];
}

/** The outcome of one backend job, for the duration histogram. */
export type JobOutcome = "ok" | "error" | "aborted";

/** Why a request was refused without running: each one a label value of `refusals_total`. */
export type RefusalReason = "rate_limited" | "busy" | "breaker_open" | "queue_full" | "store_unavailable";

/** A cache lookup's result: a stored clip, a job already running for the same content, a new job, or not cacheable. */
export type CacheResult = "hit" | "shared" | "miss" | "bypass";

const BREAKER_VALUE: Record<string, number> = { closed: 0, "half-open": 1, open: 2 };

/** The metrics and the registry that serves them. */
export interface GatewayMetrics {
  readonly registry: Registry;
  /** Records one finished HTTP request. */
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  /** Records one backend job's duration. */
  job(backend: string, outcome: JobOutcome, seconds: number): void;
  /** Records how long a job waited for a slot on its backend. */
  queueWait(backend: string, seconds: number): void;
  cache(result: CacheResult): void;
  refusal(reason: RefusalReason): void;
  /** Reads the boxes' load, state, breaker, kind and doors at each scrape (every box once). */
  watchBackends(source: () => readonly BackendGaugeSource[]): void;
}

// Latency buckets from a cache hit (about a millisecond) to a long synthesis (a minute).
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const JOB_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120];
const WAIT_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * @example
 * const metrics = createMetrics();
 * metrics.watchBackends(() => pool.status());
 * app.get("/metrics", metricsRoute(metrics));
 */
export function createMetrics(options: MetricsOptions = {}): GatewayMetrics {
  const prefix = options.prefix ?? "cosyvoice_gateway_";
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });
  const registers = [registry];

  const requests = new Counter({ name: `${prefix}http_requests_total`, help: "HTTP requests by method, route template and status", labelNames: ["method", "route", "status"], registers });
  const duration = new Histogram({ name: `${prefix}http_request_duration_seconds`, help: "HTTP request latency, first byte in to last byte out", labelNames: ["method", "route", "status"], buckets: HTTP_BUCKETS, registers });
  const jobs = new Histogram({ name: `${prefix}backend_job_duration_seconds`, help: "Time a backend spent on one synthesis job", labelNames: ["backend", "outcome"], buckets: JOB_BUCKETS, registers });
  const waits = new Histogram({ name: `${prefix}backend_queue_wait_seconds`, help: "Time a job waited for a slot on its backend", labelNames: ["backend"], buckets: WAIT_BUCKETS, registers });
  const cache = new Counter({ name: `${prefix}cache_requests_total`, help: "Synthesis cache lookups: hit, shared (joined a running job), miss, bypass (not cacheable)", labelNames: ["result"], registers });
  const refusals = new Counter({ name: `${prefix}refusals_total`, help: "Requests refused before running: rate limit, capacity, breaker", labelNames: ["reason"], registers });
  for (const result of ["hit", "shared", "miss", "bypass"]) cache.inc({ result }, 0);
  for (const reason of ["rate_limited", "busy", "breaker_open", "queue_full", "store_unavailable"]) refusals.inc({ reason }, 0);

  let backends: () => readonly BackendGaugeSource[] = () => [];
  new Gauge({
    name: `${prefix}backend_jobs`,
    help: "Jobs on each backend by state (running, waiting for a slot)",
    labelNames: ["backend", "state"],
    registers,
    collect() {
      this.reset();
      for (const b of backends()) {
        this.set({ backend: b.name, state: "running" }, b.running);
        this.set({ backend: b.name, state: "waiting" }, b.waiting);
      }
    },
  });
  new Gauge({
    name: `${prefix}box_info`,
    help: "One series per box (GPU box, ASR server, passthrough service), always 1: its kind and the doors that use it",
    labelNames: ["box", "kind", "doors"],
    registers,
    collect() {
      this.reset();
      for (const b of backends()) this.set({ box: b.name, kind: b.kind ?? "unknown", doors: [...(b.doors ?? [])].sort().join(",") }, 1);
    },
  });
  new Gauge({
    name: `${prefix}backend_up`,
    help: "1 when the backend's last check or job succeeded, 0 when it is down or not yet checked",
    labelNames: ["backend"],
    registers,
    collect() {
      this.reset();
      for (const b of backends()) this.set({ backend: b.name }, b.state === "up" ? 1 : 0);
    },
  });
  new Gauge({
    name: `${prefix}backend_breaker_state`,
    help: "Circuit breaker per backend: 0 closed, 1 half-open, 2 open",
    labelNames: ["backend"],
    registers,
    collect() {
      this.reset();
      for (const b of backends()) if (b.breaker !== undefined) this.set({ backend: b.name }, BREAKER_VALUE[b.breaker] ?? 0);
    },
  });

  return {
    registry,
    httpRequest(method, route, status, seconds) {
      const labels = { method: METHODS.has(method) ? method : "other", route, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
    job: (backend, outcome, seconds) => jobs.observe({ backend, outcome }, seconds),
    queueWait: (backend, seconds) => waits.observe({ backend }, seconds),
    cache: (result) => cache.inc({ result }),
    refusal: (reason) => refusals.inc({ reason }),
    watchBackends(source) {
      backends = source;
    },
  };
}
