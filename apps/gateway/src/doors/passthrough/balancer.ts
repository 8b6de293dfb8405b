/**
 * Choosing a backend for a new session (or a request tied to none). Pure: the caller passes the
 * candidates and a turn counter; a backend that is down or retired is never chosen while another
 * is usable, and when none is usable the least bad one is tried so the client gets a real answer
 * (and a box that is back is found at once).
 */
import type { BalancerName } from "../../platform/routes-file/schema.ts";
import type { PassthroughBackend } from "./backends.ts";

/** A turn counter per route (survives reloads, so round-robin keeps its place). */
export interface Turn {
  next: number;
}

/**
 * @example const b = pickBackend("round-robin", route.backends.map((x) => registry.get(x.url)!), turn);
 */
export function pickBackend(balancer: BalancerName, candidates: readonly PassthroughBackend[], turn: Turn): PassthroughBackend | undefined {
  if (candidates.length === 0) return undefined;
  const usable = candidates.filter((b) => b.usable);
  const pool = usable.length > 0 ? usable : candidates.filter((b) => !b.retired);
  const list = pool.length > 0 ? pool : candidates;
  const start = turn.next++ % list.length;
  const rotated = list.map((_, i) => list[(start + i) % list.length] as PassthroughBackend);
  switch (balancer) {
    case "first":
      return list[0];
    case "round-robin":
      return rotated[0];
    case "least-connection":
      return rotated.reduce((best, b) => (b.open < best.open ? b : best));
    case "least-outstanding":
      // Fewest jobs per slot, then fewest open requests, ties taken in turn.
      return rotated.reduce((best, b) => (b.outstanding < best.outstanding || (b.outstanding === best.outstanding && b.open < best.open) ? b : best));
  }
}
