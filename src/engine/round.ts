// One round of one target (SPEC §1): gates → select → kill → hand victims to recovery. Deciding
// is done by the pure modules; this file only sequences them, and never throws: a failure is
// logged, counted and reported, and the loop goes on.
import { randomBytes } from "node:crypto";
import seedrandom from "seedrandom";
import type { Clock } from "../clock.js";
import type { Config, Target } from "../config/types.js";
import type { EventSink } from "../kube/events.js";
import type { ClusterView } from "../kube/view.js";
import type { Metrics, SkipReason } from "../observe/metrics.js";
import type { Logger } from "../observe/logger.js";
import type { RecoveryResult, Victim } from "../recover/types.js";
import { inBlackout } from "../schedule/blackout.js";
import type { Candidate, Self } from "../select/candidate.js";
import { candidateKey } from "../select/candidate.js";
import { selectVictims } from "../select/select.js";
import type { Selection } from "../select/select.js";
import type { WriteGate } from "../kube/journal.js";
import { NotAllowed } from "../kube/journal.js";
import { entryOf, killOne, recheckReport } from "./victim.js";
import type { Killer, Recheck, RoundCtx, RoundJournal } from "./victim.js";
import type { ConsumerKill } from "../kill/pod.js";
import type { CheckRound } from "../probe/loop.js";

/** Where victims go after the kill: the recovery tracker(s) of the running config generations. */
export interface Recoveries {
  inFlight(target: string): number;
  track(victim: Victim): Promise<RecoveryResult>;
}

export interface RoundDeps {
  readonly view: ClusterView;
  readonly tracker: Recoveries;
  readonly kill: Killer;
  readonly emit: EventSink;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly clock: Clock;
  readonly self: Self;
  /** May this replica act on this config now (the Lease, unless the config is dry-run)? */
  readonly isLeader: (config: Config) => boolean;
  /** Asked before every write (journal, kill, strip, Event): leading, and the config in force live. */
  readonly gate: WriteGate;
  readonly journal: RoundJournal;
  /** The target's steady-state probes, each run once now (undefined: it has none). */
  readonly steadyBefore: (target: Target) => Promise<CheckRound> | undefined;
  /** A fresh read of what a victim's eligibility rests on, right before its kill. */
  readonly recheck: (victim: Candidate, target: Target) => Promise<Recheck>;
}

export interface RoundRequest {
  readonly config: Config;
  readonly target: Target;
  /** The scheduled fire time (or now, for `once`). */
  readonly tickMs: number;
  /** --seed; else config.seed; else a new random seed. */
  readonly seed?: string | undefined;
  /** `once --force`: run despite paused and blackout windows. */
  readonly force?: boolean;
}

export type VictimResult =
  "killed" | "pdb" | "gone" | "changed" | "excluded" | "failed" | "terminating" | "dry_run";
export interface VictimReport {
  readonly kind: Target["kind"];
  readonly namespace: string;
  readonly name: string;
  readonly result: VictimResult;
  readonly message?: string;
  /** Volumes: the consumer pods restarted with the victim, each with its own result. */
  readonly consumers?: readonly ConsumerKill[];
}

export interface RoundReport {
  readonly round: string;
  readonly target: string;
  readonly seed: string;
  readonly skipped: SkipReason | undefined;
  readonly eligible: number;
  readonly victims: readonly VictimReport[];
  readonly failed: boolean;
  /** Settles when every killed victim's recovery has ended. */
  readonly recoveries: Promise<RecoveryResult[]>;
}

const compactTime = (ms: number) =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/[-:]|\.000/g, "");
export const roundId = (target: string, tickMs: number): string =>
  `${target}-${compactTime(tickMs)}`;

/** What the gates need to know about the process right now. */
export interface GateState {
  readonly leader: boolean;
  readonly inFlight: number;
  readonly synced: boolean;
}

/** Why this round must not run, in SPEC order; undefined when it may. Pure. */
export function gate(req: RoundRequest, state: GateState): SkipReason | undefined {
  const { config, target } = req;
  if (!req.force && config.paused) return "paused";
  if (!req.force && inBlackout(config.safety.blackout, new Date(req.tickMs), target.timezone))
    return "blackout";
  if (!state.leader) return "not_leader";
  if (target.concurrency === "Forbid" && state.inFlight > 0) return "concurrency";
  // Never kill from a stale picture: a cache that lost its watch may hold pods long gone.
  if (!state.synced) return "cache_unsynced";
  return undefined;
}

export async function runRound(req: RoundRequest, deps: RoundDeps): Promise<RoundReport> {
  const { target, config } = req;
  const seed = req.seed || config.seed || randomBytes(8).toString("hex");
  const round = roundId(target.name, req.tickMs);
  const log = deps.log.child({ round, target: target.name, seed });
  const base = {
    round,
    target: target.name,
    seed,
    eligible: 0,
    victims: [],
    failed: false,
    recoveries: Promise.resolve([]),
  };
  deps.metrics.setLastRound(target.name, req.tickMs / 1000);
  const skip = gate(req, {
    leader: deps.isLeader(req.config),
    inFlight: deps.tracker.inFlight(target.name),
    synced: deps.view.synced,
  });
  if (skip) {
    deps.metrics.roundSkipped(target.name, skip);
    log.info({ reason: skip }, "round skipped");
    return { ...base, skipped: skip };
  }
  try {
    return await selectAndKill(req, deps, { seed, round, log });
  } catch (err) {
    deps.metrics.roundFailed(target.name);
    deps.metrics.error("round");
    log.error({ err }, "round failed");
    return { ...base, skipped: undefined, failed: true };
  }
}

/** The round's pure decision on the current caches; `plan` shows exactly this. */
export function decide(x: {
  target: Target;
  config: Config;
  view: ClusterView;
  self: Self;
  seed: string;
  nowMs: number;
}): Selection {
  return selectVictims({
    candidates: x.view.candidates(x.target),
    target: x.target,
    safety: x.config.safety,
    nowMs: x.nowMs,
    namespaces: x.view.namespaces(),
    self: x.self,
    rng: seedrandom(x.seed),
    healthy: (c) => c.owner === undefined || x.view.healthy(c.owner),
  });
}

async function selectAndKill(
  req: RoundRequest,
  deps: RoundDeps,
  ctx: RoundCtx,
): Promise<RoundReport> {
  const { target, config } = req;
  const { log } = ctx;
  const started = deps.clock.now();
  const selection = decide({
    target,
    config,
    view: deps.view,
    self: deps.self,
    seed: ctx.seed,
    nowMs: req.tickMs,
  });
  deps.metrics.setEligible(target.name, selection.eligible.length);
  log.info(
    {
      eligible: selection.eligible.length,
      excluded: Object.fromEntries(selection.excluded),
      wanted: selection.wanted,
      victims: selection.victims.map(candidateKey),
      decisionMs: Math.round((deps.clock.now() - started) * 1000) / 1000,
    },
    "victims selected",
  );
  for (const d of selection.drops)
    log.info({ victim: candidateKey(d.candidate), reason: d.reason }, "victim dropped");
  const base = {
    round: ctx.round,
    target: target.name,
    seed: ctx.seed,
    eligible: selection.eligible.length,
    failed: false,
  };
  if (selection.victims.length === 0) {
    const reason = selection.drops[0]?.reason ?? "no_candidates";
    countSkips(
      deps.metrics,
      target.name,
      [reason, ...selection.drops.slice(1).map((d) => d.reason)],
      true,
    );
    log.info({ reason }, "round skipped");
    return { ...base, skipped: reason, victims: [], recoveries: Promise.resolve([]) };
  }
  countSkips(
    deps.metrics,
    target.name,
    selection.drops.map((d) => d.reason),
    false,
  );
  // The hypothesis (SPEC §2 steadyState.before): no kill of a service that is not steady now.
  const unsteady = await failingProbes(target, deps);
  if (unsteady) {
    deps.metrics.roundSkipped(target.name, "not_steady");
    log.info({ reason: "not_steady", probes: unsteady }, "round skipped");
    return { ...base, skipped: "not_steady", victims: [], recoveries: Promise.resolve([]) };
  }
  const killed = await killVictims(selection.victims, req, deps, ctx);
  if (killed.skipped) {
    deps.metrics.roundSkipped(target.name, "not_leader");
    log.info({ reason: "not_leader", why: killed.skipped }, "round skipped");
    return { ...base, skipped: "not_leader", victims: [], recoveries: Promise.resolve([]) };
  }
  const { reports, recoveries } = killed;
  const refused = reports.filter((r) => r.result === "pdb").length;
  const anyKilled = reports.some((r) => r.result === "killed" || r.result === "dry_run");
  if (!anyKilled && refused > 0) {
    countSkips(
      deps.metrics,
      target.name,
      reports.filter((r) => r.result === "pdb").map(() => "pdb"),
      true,
    );
    return { ...base, skipped: "pdb", victims: reports, recoveries: Promise.all(recoveries) };
  }
  countSkips(
    deps.metrics,
    target.name,
    reports.filter((r) => r.result === "pdb").map(() => "pdb"),
    false,
  );
  deps.metrics.roundRan(target.name);
  return { ...base, skipped: undefined, victims: reports, recoveries: Promise.all(recoveries) };
}

/** Counts victim-level skips; when the whole round was skipped, the first also counts the round. */
function countSkips(
  metrics: Metrics,
  target: string,
  reasons: readonly SkipReason[],
  roundSkipped: boolean,
): void {
  reasons.forEach((reason, i) => {
    if (i === 0 && roundSkipped) metrics.roundSkipped(target, reason);
    else metrics.skipped(target, reason);
  });
}

/**
 * The live part of a round: a fresh look at each victim, the journal written before the first
 * kill, then the kills. Dry-run writes nothing, so it re-reads nothing either.
 */
async function killVictims(
  victims: readonly Candidate[],
  req: RoundRequest,
  deps: RoundDeps,
  ctx: RoundCtx,
): Promise<{
  reports: VictimReport[];
  recoveries: Promise<RecoveryResult>[];
  skipped?: string;
}> {
  const { target, config } = req;
  const reports: VictimReport[] = [];
  const recoveries: Promise<RecoveryResult>[] = [];
  if (config.dryRun) {
    for (const v of victims) {
      deps.metrics.kill(target.name, v.kind, v.namespace, "dry_run");
      ctx.log.info({ victim: candidateKey(v), owner: v.owner?.name }, "would kill (dry run)");
      reports.push({ kind: v.kind, namespace: v.namespace, name: v.name, result: "dry_run" });
    }
    return { reports, recoveries };
  }
  const checked = [];
  for (const victim of victims) {
    const r = await deps.recheck(victim, target);
    if (r.ok) checked.push({ victim, ref: r.ref, consumers: r.consumers });
    else reports.push(recheckReport(victim, r, ctx));
  }
  if (checked.length === 0) return { reports, recoveries };
  const atMs = deps.clock.now();
  try {
    const entries = checked.map((c) => entryOf(c.victim, { target, round: ctx.round, atMs }));
    if (!(await deps.journal.record(target.name, req.tickMs, entries)))
      return { reports: [], recoveries, skipped: "tick_already_run" };
  } catch (err) {
    if (err instanceof NotAllowed) return { reports: [], recoveries, skipped: "lease_lost" };
    throw err; // the round fails and kills nothing: no kill without its journal entry
  }
  for (const c of checked) {
    const r = await killOne(c, req, deps, ctx);
    reports.push(r.report);
    if (r.recovery) recoveries.push(r.recovery);
  }
  return { reports, recoveries };
}

/** The probes failing before the kill, with their reasons; undefined when it may go ahead. */
async function failingProbes(
  target: Target,
  deps: RoundDeps,
): Promise<Record<string, string> | undefined> {
  if (!target.steadyState?.before) return undefined;
  const round = await deps.steadyBefore(target);
  if (!round) return undefined;
  const failing = round.checks.filter((c) => c.outcome.result !== "pass");
  if (failing.length === 0) return undefined;
  return Object.fromEntries(
    failing.map((c) => [c.probe, "reason" in c.outcome ? c.outcome.reason : c.outcome.result]),
  );
}
