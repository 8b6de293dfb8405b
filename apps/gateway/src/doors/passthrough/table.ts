/**
 * The routes in force, as a lookup from a request URL to its route and the upstream path. A
 * table is immutable: a reload builds a new one and swaps it in, and a request keeps the table it
 * started with until it is over.
 */
import type { CompiledRoute } from "../../platform/routes-file/load.ts";

/** What a URL matched. */
export type RouteMatch =
  | { route: CompiledRoute; redirect: false; /** Below the route's path, no leading slash, query kept. */ rest: string; upstream: string }
  | { route: CompiledRoute; redirect: true; location: string };

/**
 * @example
 * const table = new RouteTable(config.routes);
 * table.match("/cosyvoice/config?x=1"); // { route, rest: "config?x=1", upstream: "/config?x=1", redirect: false }
 * table.match("/cosyvoice");            // { route, redirect: true, location: "/cosyvoice/" }
 */
export class RouteTable {
  private readonly ordered: readonly CompiledRoute[];
  constructor(readonly routes: readonly CompiledRoute[]) {
    // Longest path first, so /cosyvoice/api/ wins over /cosyvoice/ and over /.
    this.ordered = [...routes].sort((a, b) => b.path.length - a.path.length);
  }

  match(url: string): RouteMatch | undefined {
    const q = url.indexOf("?");
    const pathname = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? "" : url.slice(q);
    for (const route of this.ordered) {
      const p = route.caseSensitive ? pathname : pathname.toLowerCase();
      const rp = route.caseSensitive ? route.path : route.path.toLowerCase();
      if (route.match === "exact") {
        if (p === rp) return { route, redirect: false, rest: query, upstream: route.upstreamPath + query };
        continue;
      }
      if (p.startsWith(rp)) {
        const rest = pathname.slice(rp.length) + query;
        return { route, redirect: false, rest, upstream: route.upstreamPath + rest };
      }
      // The page's assets are relative (./assets/...): without the slash they would resolve
      // at the domain root.
      if (`${p}/` === rp) return { route, redirect: true, location: route.path + query };
    }
    return undefined;
  }
}

/** True when a path below a route has `.` or `..` segments (also percent-encoded), which could climb out of it upstream. */
export function hasDotSegments(rest: string): boolean {
  const q = rest.indexOf("?");
  const path = q < 0 ? rest : rest.slice(0, q);
  return path.split(/\/|\\/).some((s) => {
    const d = s.replace(/%2e/gi, ".");
    return d === "." || d === "..";
  });
}
