// What the monkey tells people (SPEC §6b): the round's and the recoveries' outcomes as
// notifications. Pure mappings; the Notifier (src/notify/) delivers them without ever delaying
// a round.
import type { ChaosNotification, NotifiedVictim } from "../notify/index.js";
import type { RecoveryResult } from "../recover/types.js";
import type { RoundReport, VictimReport } from "./round-types.js";

export type Announce = (n: ChaosNotification) => void;

const iso = (ms: number) => new Date(ms).toISOString();

function killResult(v: VictimReport): NotifiedVictim["result"] {
  if (v.result === "killed") return "killed";
  if (v.result === "dry_run") return "dry_run";
  return "failed";
}

/** The round's own notification: its kills, its skip, or its failure; none for a replica that does not lead. */
export function roundNotification(
  report: RoundReport,
  x: { dryRun: boolean; atMs: number },
): ChaosNotification | undefined {
  const base = {
    target: report.target,
    round: report.round,
    seed: report.seed,
    dryRun: x.dryRun,
    time: iso(x.atMs),
  };
  if (report.failed)
    return { ...base, event: "round_failed", reason: "the round failed (see the monkey's log)" };
  // Every replica skips as not_leader every tick: that is no news.
  if (report.skipped === "not_leader") return undefined;
  if (report.skipped) return { ...base, event: "skipped", reason: report.skipped };
  const hit = report.victims.filter((v) => ["killed", "dry_run", "failed"].includes(v.result));
  if (hit.length === 0) return undefined;
  return {
    ...base,
    event: "kill",
    victims: hit.map((v) => ({
      kind: v.kind,
      namespace: v.namespace,
      name: v.name,
      result: killResult(v),
    })),
  };
}

/** A recovery's notifications: recovered or not_recovered, and objective_missed besides. */
export function recoveryNotifications(r: RecoveryResult): ChaosNotification[] {
  if (r.outcome === "aborted") return []; // the monkey stopping is not news about the workload
  const objective = r.victim.target.recoveryObjectiveMs;
  const victim: NotifiedVictim = {
    kind: r.victim.kind,
    namespace: r.victim.namespace,
    name: r.victim.name,
    phases: r.phases,
    outcome: r.outcome,
    ...(r.disruptionSeconds === undefined ? {} : { disruptionSeconds: r.disruptionSeconds }),
    ...(objective === undefined ? {} : { objectiveSeconds: objective / 1000 }),
  };
  const base = {
    target: r.victim.target.name,
    round: r.victim.round,
    seed: r.victim.seed,
    dryRun: false,
    time: iso(r.endedAtMs),
    victims: [victim],
  };
  const out: ChaosNotification[] = [
    { ...base, event: r.outcome === "recovered" ? "recovered" : "not_recovered" },
  ];
  if (r.objectiveMissed) out.push({ ...base, event: "objective_missed" });
  return out;
}
