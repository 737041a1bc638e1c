import seedrandom from "seedrandom";

/**
 * A uniform whole number of milliseconds in [0, jitterMs) drawn from `rng` (e.g. seedrandom),
 * to add after a tick; 0 when jitterMs is 0. `rng` must return values in [0, 1).
 */
export function jitterDelay(jitterMs: number, rng: () => number): number {
  if (!Number.isFinite(jitterMs) || jitterMs < 0) {
    throw new RangeError(`jitter must be a finite, non-negative number of ms, got ${jitterMs}`);
  }
  if (jitterMs === 0) return 0;
  const draw = rng();
  if (!(draw >= 0 && draw < 1)) throw new RangeError(`rng returned ${draw}, outside [0, 1)`);
  // For a fractional jitterMs, the largest whole number below it is ceil(jitterMs) - 1.
  return Math.min(Math.floor(draw * jitterMs), Math.ceil(jitterMs) - 1);
}

/**
 * The jitter of one tick of one target, the same in every replica (SPEC §7.5): drawn from a
 * generator seeded with the target and the tick, so a failover inside the jitter window cannot
 * fire the same tick again at another replica's later draw.
 */
export function tickJitter(jitterMs: number, target: string, tickMs: number): number {
  return jitterDelay(jitterMs, seedrandom(`jitter\u0000${target}\u0000${tickMs}`));
}
