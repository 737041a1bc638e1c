// The JSON body a webhook sink receives (SPEC §6b), one per event. Its contract is
// config/notify/chaos-event.schema.json: within apiVersion chaos-monkey.io/v1 fields are only
// ever added, so a receiver should ignore what it does not know.
import type { ChaosNotification, NotifiedVictim, NotifyEvent, VictimPhases } from "./event.js";
import { notificationId } from "./event.js";
import { headline } from "./text.js";

export const CHAOS_EVENT_API_VERSION = "chaos-monkey.io/v1";
export const CHAOS_EVENT_KIND = "ChaosEvent";

export interface ChaosEventBody {
  readonly apiVersion: typeof CHAOS_EVENT_API_VERSION;
  readonly kind: typeof CHAOS_EVENT_KIND;
  /** The same on every delivery of one notification: retries may deliver it twice. */
  readonly id: string;
  readonly event: NotifyEvent;
  readonly target: string;
  readonly round: string;
  readonly seed: string;
  readonly dryRun: boolean;
  readonly time: string;
  /** One line for a person, as Slack shows it. */
  readonly summary: string;
  readonly reason?: string;
  readonly victims: readonly NotifiedVictim[];
}

const PHASES = ["replaced", "ready", "recovered", "steady"] as const;

/** A figure worth sending: JSON has no NaN or Infinity, and durations are never negative. */
function figure(x: number | undefined): number | undefined {
  return x !== undefined && Number.isFinite(x) && x >= 0 ? x : undefined;
}

function phasesOf(p: VictimPhases | undefined): VictimPhases | undefined {
  if (p === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const phase of PHASES) {
    const seconds = figure(p[phase]);
    if (seconds !== undefined) out[phase] = seconds;
  }
  return out;
}

// Field by field, so nothing the engine attaches beyond the contract leaks into the body.
function victimOf(v: NotifiedVictim): NotifiedVictim {
  return dropUndefined({
    kind: v.kind,
    namespace: v.namespace,
    name: v.name,
    result: v.result,
    phases: phasesOf(v.phases),
    disruptionSeconds: figure(v.disruptionSeconds),
    objectiveSeconds: figure(v.objectiveSeconds),
    outcome: v.outcome,
  });
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function webhookBody(n: ChaosNotification): ChaosEventBody {
  return dropUndefined({
    apiVersion: CHAOS_EVENT_API_VERSION,
    kind: CHAOS_EVENT_KIND,
    id: notificationId(n),
    event: n.event,
    target: n.target,
    round: n.round,
    seed: n.seed,
    dryRun: n.dryRun,
    time: n.time,
    summary: headline(n),
    reason: n.reason,
    victims: (n.victims ?? []).map(victimOf),
  });
}
