// The result `once --output json` prints (SPEC §4): one entry per round, in the order the
// targets ran, each victim with how it recovered. Scripts (and the e2e tests) read this shape.
import type { VictimReport } from "../engine/round-types.js";
import type { SkipReason } from "../observe/metrics.js";
import type { Outcome, Phase, RecoveryResult } from "../recover/types.js";
import { recoveryOf } from "./verdict.js";
import type { RoundSummary } from "./verdict.js";

/** A victim as the round reported it, and its recovery (null and empty when none was followed). */
export interface OnceVictim extends VictimReport {
  readonly outcome: Outcome | null;
  /** Seconds from the kill to each phase reached. */
  readonly phases: Partial<Record<Phase, number>>;
  /** With probes: seconds they spent failing between the kill and steady (or the end). */
  readonly disruptionSeconds: number | null;
  readonly objectiveSeconds: number | null;
  readonly objectiveMissed: boolean;
  /** With probes, when not steady: the probes short of their streak at the end. */
  readonly notSteady: readonly string[];
}

export interface OnceRound {
  readonly target: string;
  readonly round: string;
  readonly seed: string;
  readonly skipped: SkipReason | null;
  readonly failed: boolean;
  readonly eligible: number;
  readonly victims: readonly OnceVictim[];
}

export type OnceResult = readonly OnceRound[];

const objectiveSeconds = (r: RecoveryResult | undefined): number | null => {
  const ms = r?.victim.target.recoveryObjectiveMs;
  return ms === undefined ? null : ms / 1000;
};

export function onceResult(rounds: readonly RoundSummary[]): OnceResult {
  return rounds.map(({ report, recoveries }) => ({
    target: report.target,
    round: report.round,
    seed: report.seed,
    skipped: report.skipped ?? null,
    failed: report.failed,
    eligible: report.eligible,
    victims: report.victims.map((v) => {
      const r = recoveryOf(recoveries, v);
      return {
        ...v,
        outcome: r?.outcome ?? null,
        phases: r?.phases ?? {},
        disruptionSeconds: r?.disruptionSeconds ?? null,
        objectiveSeconds: objectiveSeconds(r),
        objectiveMissed: r?.objectiveMissed ?? false,
        notSteady: r?.notSteady ?? [],
      };
    }),
  }));
}
