// selectVictims: eligibility, then picking. The single entry point for "who dies this round".
import type { Candidate } from "./candidate.js";
import { exclusionReason } from "./eligibility.js";
import type { EligibilityContext, ExclusionReason } from "./eligibility.js";
import { killCost, pickVictims } from "./pick.js";
import type { Drop } from "./pick.js";
import type { Rng } from "../rng.js";

export interface SelectionInput extends EligibilityContext {
  readonly candidates: Iterable<Candidate>;
  readonly rng: Rng;
  readonly healthy: (c: Candidate) => boolean;
}

export interface Selection {
  readonly eligible: readonly Candidate[];
  readonly excluded: ReadonlyMap<ExclusionReason, number>;
  readonly wanted: number;
  readonly victims: readonly Candidate[];
  readonly drops: readonly Drop[];
}

export function selectVictims(input: SelectionInput): Selection {
  const eligible: Candidate[] = [];
  const excluded = new Map<ExclusionReason, number>();
  for (const c of input.candidates) {
    const reason = exclusionReason(c, input);
    if (reason === undefined) eligible.push(c);
    else excluded.set(reason, (excluded.get(reason) ?? 0) + 1);
  }
  const picked = pickVictims({
    eligible,
    mode: input.target.mode,
    value: input.target.value,
    safety: input.safety,
    rng: input.rng,
    cost: killCost(input.target),
    healthy: input.healthy,
  });
  return { eligible, excluded, ...picked };
}
