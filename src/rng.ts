// Randomness is passed in, never drawn behind the caller's back (STYLE §1): a round's choices
// come from a generator seeded with its seed; what needs no reproducing (backoff jitter, a new
// round's seed when none is configured) from one the process seeds once at its edge.
export type Rng = () => number;

/** A new round seed when none is given: 16 hex digits from `rng`. */
export function newSeed(rng: Rng): string {
  const word = () =>
    Math.floor(rng() * 2 ** 32)
      .toString(16)
      .padStart(8, "0");
  return word() + word();
}
