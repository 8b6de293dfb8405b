/**
 * A route's rate limit (the article's "10 per second"), counted only on requests that start
 * work. One limiter per route, created when a routes file is installed and kept across reloads
 * while the route's name and budget stay the same, so a reload does not hand every client a
 * fresh budget. The client is the API key when one was given, else the address (behind a
 * trusted proxy, `TRUST_PROXY`, the address the proxy reports).
 */
import { BlockList, isIP } from "node:net";
import type { NextFunction, Request, RequestHandler, Response } from "express";
import { ipKeyGenerator, rateLimit, type Store } from "express-rate-limit";
import type { Logger } from "pino";
import { HttpProblem } from "../problems.ts";
import type { CompiledRoute } from "../../platform/routes-file/load.ts";

/** Options of {@link RouteLimits}. */
export interface RouteLimitsOptions {
  logger: Logger;
  /** Counter store by name (`route:<name>`), e.g. Redis shared by several gateways. @default in this process */
  store?: (name: string) => Store;
}

interface Entry {
  signature: string;
  handler: RequestHandler;
}

/** The client a budget belongs to. */
export function clientOf(req: Request, res: Response): string {
  return (res.locals.clientKey as string | undefined) ?? "ip:" + ipKeyGenerator(req.ip ?? "unknown");
}

function whitelistOf(entries: readonly string[]): (req: Request, res: Response) => boolean {
  const keys = new Set(entries.filter((e) => e.startsWith("key:")));
  const list = new BlockList();
  let any = false;
  for (const e of entries) {
    const [addr, bits] = e.split("/");
    const family = isIP(addr ?? "");
    if (family === 0) continue;
    const type = family === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) list.addAddress(addr as string, type);
    else list.addSubnet(addr as string, Number(bits), type);
    any = true;
  }
  return (req, res) => {
    const key = res.locals.clientKey as string | undefined;
    if (key !== undefined && keys.has(key)) return true;
    if (!any || req.ip === undefined) return false;
    const ip = req.ip.startsWith("::ffff:") ? req.ip.slice(7) : req.ip;
    const family = isIP(ip);
    return family !== 0 && list.check(ip, family === 6 ? "ipv6" : "ipv4");
  };
}

/**
 * @example
 * const limits = new RouteLimits({ logger });
 * limits.install(config.routes);
 * const limiter = limits.for(route); // undefined when the route has no limit
 */
export class RouteLimits {
  private readonly byRoute = new Map<string, Entry>();
  constructor(private readonly opts: RouteLimitsOptions) {}

  /** Makes limiters for the routes' budgets; unchanged budgets keep their counters. */
  install(routes: readonly CompiledRoute[]): void {
    const keep = new Set<string>();
    for (const route of routes) {
      const rl = route.rateLimit;
      if (!rl) continue;
      keep.add(route.name);
      const signature = JSON.stringify(rl);
      if (this.byRoute.get(route.name)?.signature === signature) continue;
      this.byRoute.set(route.name, { signature, handler: this.make(route.name, rl) });
    }
    for (const name of [...this.byRoute.keys()]) if (!keep.has(name)) this.byRoute.delete(name);
  }

  for(route: CompiledRoute): RequestHandler | undefined {
    return this.byRoute.get(route.name)?.handler;
  }

  private make(name: string, rl: NonNullable<CompiledRoute["rateLimit"]>): RequestHandler {
    const whitelisted = whitelistOf(rl.whitelist);
    const seconds = rl.windowMs / 1000;
    const limiter = rateLimit({
      windowMs: rl.windowMs,
      limit: rl.limit,
      standardHeaders: "draft-8",
      legacyHeaders: false,
      identifier: name,
      keyGenerator: clientOf,
      skip: whitelisted,
      handler: (_req, res, next) => {
        const left = Number(res.getHeader("Retry-After") ?? Math.ceil(seconds));
        const retryAfter = Math.max(left, rl.retryAfterSeconds ?? 0);
        next(
          new HttpProblem("rate_limited", {
            detail: `At most ${rl.limit} requests that start work per ${seconds >= 1 ? `${seconds} s` : `${rl.windowMs} ms`} on ${name}; retry in ${retryAfter} s`,
            retryAfterSeconds: retryAfter,
          }),
        );
      },
      ...(this.opts.store ? { store: this.opts.store(`route:${name}`) } : {}),
    });
    return function routeRateLimit(req: Request, res: Response, next: NextFunction) {
      return limiter(req, res, next);
    };
  }
}
