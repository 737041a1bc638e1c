// The verdict of `once` (SPEC §4): what each round did and how its victims recovered, and the
// exit code that says it to a CronJob or a CI step. Shared by the table, JSON and JUnit outputs.
import type { RecoveryResult } from "../recover/types.js";
import { EXIT } from "./common.js";
import type { RoundReport } from "../engine/round-types.js";

export interface RoundSummary {
  readonly report: RoundReport;
  readonly recoveries: readonly RecoveryResult[];
}

/** The recovery of one reported victim, if it was followed. */
export const recoveryOf = (
  recoveries: readonly RecoveryResult[],
  v: { namespace: string; name: string },
): RecoveryResult | undefined =>
  recoveries.find((x) => x.victim.namespace === v.namespace && x.victim.name === v.name);

/**
 * 1: an error (a failed round or kill, the Lease lost); 3: a victim not recovered, not steady
 * after the kill, or over its objective; else 0 (a round skipped before its kill included).
 */
export function exitCodeFor(rounds: readonly RoundSummary[]): number {
  if (rounds.some((r) => r.report.failed || r.report.victims.some((v) => v.result === "failed")))
    return EXIT.error;
  // `once` acquired the Lease before its first round: a not_leader skip means it was lost.
  if (rounds.some((r) => r.report.skipped === "not_leader")) return EXIT.error;
  if (rounds.some((r) => r.recoveries.some((x) => x.outcome !== "recovered" || x.objectiveMissed)))
    return EXIT.notRecovered;
  // Deleted but held Terminating by its finalizers: the object did not go, nothing recovered.
  if (rounds.some((r) => r.report.victims.some((v) => v.result === "terminating")))
    return EXIT.notRecovered;
  return EXIT.ok;
}
