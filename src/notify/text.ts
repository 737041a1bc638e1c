// The plain-text sentences both formats share: a webhook's summary, Slack's header and fallback.
import { formatDuration } from "../schedule/duration.js";
import type { ChaosNotification, NotifiedVictim } from "./event.js";
import { lastPhaseSeconds, objectName } from "./event.js";

export const DRY_RUN_NOTE = "DRY RUN — nothing was killed";

/** Seconds as the config writes durations, to a tenth of a second: "0.4s", "12.3s", "1m5s". */
export function formatSeconds(seconds: number): string {
  const tenths = Math.round(seconds * 10);
  return tenths < 600 ? `${tenths / 10}s` : formatDuration(tenths * 100);
}

/** What a skip reason means to someone who does not know the metric labels. */
const SKIP_REASONS: Readonly<Record<string, string>> = {
  paused: "the monkey is paused",
  blackout: "inside a blackout window",
  not_leader: "this replica is not the leader",
  concurrency: "the last round's recoveries are still in flight",
  no_candidates: "nothing eligible to kill",
  unhealthy: "the workloads are not fully ready",
  not_steady: "the steady-state probes failed before the kill",
  pdb: "PodDisruptionBudgets forbid it",
  cap: "the per-round cap was reached",
  cache_unsynced: "the cluster cache is not in sync",
};

export function skipReasonText(reason: string | undefined): string {
  if (reason === undefined || reason === "") return "no reason given";
  const meaning = SKIP_REASONS[reason];
  return meaning === undefined ? reason : `${reason}: ${meaning}`;
}

const NOUNS: Readonly<Record<string, [string, string]>> = {
  Pod: ["pod", "pods"],
  PersistentVolumeClaim: ["claim", "claims"],
  PersistentVolume: ["volume", "volumes"],
};

/** "1 pod", "3 claims", "2 objects" (mixed kinds). */
export function countOf(victims: readonly NotifiedVictim[], n = victims.length): string {
  const kinds = new Set(victims.map((v) => v.kind));
  const [one, many] =
    kinds.size === 1
      ? (NOUNS[[...kinds][0] ?? ""] ?? ["object", "objects"])
      : ["object", "objects"];
  return `${n} ${n === 1 ? one : many}`;
}

export function victimLabel(v: NotifiedVictim): string {
  return `${v.kind} ${objectName(v)}`;
}

function killHeadline(n: ChaosNotification): string {
  const victims = n.victims ?? [];
  if (n.dryRun) return `${n.target}: would kill ${countOf(victims)}`;
  const failed = victims.filter((v) => v.result === "failed").length;
  if (failed === 0) return `${n.target}: killed ${countOf(victims)}`;
  return `${n.target}: killed ${victims.length - failed} of ${countOf(victims)} (${failed} failed)`;
}

function victimHeadline(n: ChaosNotification): string {
  const v = n.victims?.[0];
  const who = v === undefined ? "a victim" : victimLabel(v);
  const took = lastPhaseSeconds(v?.phases);
  switch (n.event) {
    case "recovered":
      return `${n.target}: ${who} recovered${took === undefined ? "" : ` in ${formatSeconds(took)}`}`;
    case "not_recovered":
      return `${n.target}: ${who} did not recover (${v?.outcome ?? "timeout"})`;
    default: {
      const objective = v?.objectiveSeconds;
      const over =
        objective === undefined ? "" : `, over its ${formatSeconds(objective)} objective`;
      return `${n.target}: ${who} ${took === undefined ? "missed its objective" : `took ${formatSeconds(took)}${over}`}`;
    }
  }
}

/** One line that says what happened, without markup. */
export function headline(n: ChaosNotification): string {
  const prefix = n.dryRun ? "DRY RUN — " : "";
  switch (n.event) {
    case "kill":
      return `${prefix}${killHeadline(n)}${n.dryRun ? "; nothing was killed" : ""}`;
    case "round_failed":
      return `${prefix}${n.target}: round failed`;
    case "skipped":
      return `${prefix}${n.target}: round skipped (${skipReasonText(n.reason)})`;
    default:
      return `${prefix}${victimHeadline(n)}`;
  }
}
