/**
 * A small seeded generator (mulberry32) for tests that must replay exactly: the same seed gives
 * the same numbers in [0, 1) on every run and machine.
 * @example const r = seeded(7); r() // 0.0007...
 */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
