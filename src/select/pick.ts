// Picking victims among the eligible: how many the mode asks for, then a seeded shuffle, the
// per-owner and per-round caps, and the steady-state guard. Pure: the same eligible set, target,
// safety settings and generator state give the same victims.
import type { Mode, Safety, Target } from "../config/types.js";
import type { Candidate } from "./candidate.js";
import type { Rng } from "../rng.js";
import { candidateKey } from "./candidate.js";

export type DropReason = "cap" | "unhealthy";

export interface Drop {
  readonly candidate: Candidate;
  readonly reason: DropReason;
}

/** How many victims a mode asks for out of `eligible` objects (before caps). */
export function wantedCount(mode: Mode, value: number, eligible: number, rng: Rng): number {
  switch (mode) {
    case "one":
      return Math.min(1, eligible);
    case "all":
      return eligible;
    case "fixed":
      return Math.min(Math.floor(value), eligible);
    case "fixed-percent":
      return Math.floor((eligible * value) / 100);
    case "random-max-percent": {
      // A whole percentage drawn from [0, value], as Chaos Mesh does.
      const percent = Math.floor(rng() * (Math.floor(value) + 1));
      return Math.floor((eligible * percent) / 100);
    }
  }
}

/** Fisher-Yates on a copy sorted by key, so cache iteration order never changes the outcome. */
export function seededShuffle<T extends Candidate>(items: readonly T[], rng: Rng): T[] {
  // Keys computed once (not per comparison): this sort runs over every eligible object.
  const keyed = items.map((c) => ({ c, k: `${candidateKey(c)}\u0000${c.uid}` }));
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  const out = keyed.map((x) => x.c);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}

const ownerKey = (c: Candidate): string => c.owner?.uid ?? `self:${c.uid}`;

/** How many kills a victim counts for against maxKillsPerRound (at least 1). */
export type KillCost = (c: Candidate) => number;

/**
 * A victim's cost for `target`: 1, plus the pods mounting the volume when the target restarts
 * them, since those are killed too.
 */
export function killCost(target: Pick<Target, "kind" | "action">): KillCost {
  if (target.kind === "Pod" || !target.action.restartConsumers) return () => 1;
  return (c) => 1 + c.consumers.length;
}

export interface PickInput {
  readonly eligible: readonly Candidate[];
  readonly mode: Mode;
  readonly value: number;
  readonly safety: Safety;
  readonly rng: Rng;
  /** What each victim counts for against maxKillsPerRound (killCost). */
  readonly cost: KillCost;
  /** Is the victim's workload fully ready right now? Consulted only when requireHealthy. */
  readonly healthy: (c: Candidate) => boolean;
}

export interface PickResult {
  readonly wanted: number;
  readonly victims: readonly Candidate[];
  readonly drops: readonly Drop[];
}

export function pickVictims(input: PickInput): PickResult {
  const { eligible, safety, rng } = input;
  const wanted = wantedCount(input.mode, input.value, eligible.length, rng);
  const shuffled = seededShuffle(eligible, rng);
  const perOwner = new Map<string, number>();
  const chosen: Candidate[] = [];
  const blocked: Candidate[] = [];
  let budget = safety.maxKillsPerRound;
  // Walk the shuffle: one refused by maxPerOwner, or costing more kills than are left, makes
  // room for the next.
  let i = 0;
  for (; i < shuffled.length && chosen.length < wanted && budget > 0; i++) {
    const c = shuffled[i] as Candidate;
    const n = perOwner.get(ownerKey(c)) ?? 0;
    const cost = Math.max(1, input.cost(c));
    if (n >= safety.maxPerOwner || cost > budget) blocked.push(c);
    else {
      perOwner.set(ownerKey(c), n + 1);
      budget -= cost;
      chosen.push(c);
    }
  }
  // A cap drop is a pick the mode wanted and a cap refused: exactly wanted - chosen of them.
  const drops: Drop[] = [...blocked, ...shuffled.slice(i)]
    .slice(0, Math.max(0, wanted - chosen.length))
    .map((candidate) => ({ candidate, reason: "cap" as const }));
  if (!safety.requireHealthy) return { wanted, victims: chosen, drops };
  const victims = chosen.filter((c) => {
    const ok = input.healthy(c);
    if (!ok) drops.push({ candidate: c, reason: "unhealthy" });
    return ok;
  });
  return { wanted, victims, drops };
}
