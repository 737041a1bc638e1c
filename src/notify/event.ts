// What the monkey announces (SPEC §6b): one notification per round for kill, round_failed and
// skipped, one per victim for recovered, not_recovered and objective_missed. The engine builds
// these; the formats (webhook.ts, slack.ts) and the delivery (sink.ts) only read them.
import type { NotifyEvent } from "../config/types.js";
import type { KillResult, RecoveryOutcome } from "../observe/metrics.js";

export type { NotifyEvent } from "../config/types.js";
export { NOTIFY_EVENTS } from "../config/types.js";

/** Seconds from the kill to each recovery phase (SPEC §3), all measured from the same start. */
export interface VictimPhases {
  readonly replaced?: number;
  readonly ready?: number;
  readonly recovered?: number;
  readonly steady?: number;
}

export interface NotifiedVictim {
  readonly kind: string;
  /** "" for a cluster-scoped object (a PersistentVolume). */
  readonly namespace: string;
  readonly name: string;
  /** kill: what the kill did. */
  readonly result?: KillResult;
  readonly phases?: VictimPhases;
  /** Seconds its probes spent failing between the kill and steady. */
  readonly disruptionSeconds?: number;
  /** The target's recovery objective, when one is set. */
  readonly objectiveSeconds?: number;
  readonly outcome?: RecoveryOutcome;
}

export interface ChaosNotification {
  readonly event: NotifyEvent;
  readonly target: string;
  /** The round id, as in the logs. */
  readonly round: string;
  readonly seed: string;
  readonly dryRun: boolean;
  /** When it happened, ISO 8601 (Date#toISOString). */
  readonly time: string;
  /** skipped: the skip reason (a chaos_monkey_skips_total reason); round_failed: the error. */
  readonly reason?: string;
  /** kill: the round's victims; recovered, not_recovered, objective_missed: the one victim. */
  readonly victims?: readonly NotifiedVictim[];
}

/** "shop/web-1", or "pv-1" for a cluster-scoped object. */
export function objectName(v: Pick<NotifiedVictim, "namespace" | "name">): string {
  return v.namespace === "" ? v.name : `${v.namespace}/${v.name}`;
}

/**
 * The same for every delivery of one notification, so a receiver can drop the duplicates a
 * retry after a lost response produces.
 */
export function notificationId(n: ChaosNotification): string {
  const [victim] = n.victims ?? [];
  const perVictim = n.event !== "kill" && victim !== undefined;
  return perVictim
    ? `${n.round}/${n.event}/${victim.kind}/${objectName(victim)}`
    : `${n.round}/${n.event}`;
}

/** The last recovery phase reached, the figure a recovery is judged by. */
export function lastPhaseSeconds(phases: VictimPhases | undefined): number | undefined {
  if (phases === undefined) return undefined;
  return phases.steady ?? phases.recovered ?? phases.ready ?? phases.replaced;
}
