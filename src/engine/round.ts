// One round of one target (SPEC §1): gates → select → kill → hand victims to recovery. Deciding
// is done by the pure modules; this file only sequences them, and never throws: a failure is
// logged, counted and reported, and the loop goes on.
import seedrandom from "seedrandom";
import { newSeed } from "../rng.js";
import type { Config, Target } from "../config/types.js";
import type { Metrics, SkipReason } from "../observe/metrics.js";
import type { RecoveryResult } from "../recover/types.js";
import { inBlackout } from "../schedule/blackout.js";
import type { Candidate, Self } from "../select/candidate.js";
import { candidateKey } from "../select/candidate.js";
import { selectVictims } from "../select/select.js";
import type { Selection } from "../select/select.js";
import { NotAllowed } from "../kube/journal.js";
import { ownerWhole } from "../recover/readiness.js";
import { candidatesOf, namespacesOf } from "../select/from-view.js";
import type { CandidateView } from "../select/from-view.js";
import { entryOf, killOne, recheckReport } from "./kill-one.js";
import type { Checked } from "./kill-one.js";
import type {
  RoundCtx,
  RoundDeps,
  RoundReport,
  RoundRequest,
  VictimReport,
} from "./round-types.js";
import { LOG } from "../observe/messages.js";

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
  const seed = req.seed || config.seed || newSeed(deps.rng);
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
    log.info({ reason: skip }, LOG.ROUND_SKIPPED);
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
export function decide(input: {
  target: Target;
  config: Config;
  view: CandidateView;
  self: Self;
  seed: string;
  nowMs: number;
}): Selection {
  return selectVictims({
    candidates: candidatesOf(input.view, input.target),
    target: input.target,
    safety: input.config.safety,
    nowMs: input.nowMs,
    namespaces: namespacesOf(input.view),
    self: input.self,
    rng: seedrandom(input.seed),
    healthy: (c) => c.owner === undefined || ownerWhole(input.view.workload, c.owner),
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
    LOG.VICTIMS_SELECTED,
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
  const drops = selection.drops.map((d) => d.reason);
  /** The round ends skipped, having killed nothing: counted once, logged once. */
  const skip = (reason: SkipReason, victimSkips: readonly SkipReason[], why: object) => {
    countRound(deps.metrics, target.name, reason, victimSkips);
    log.info({ reason, ...why }, LOG.ROUND_SKIPPED);
    return { ...base, skipped: reason, victims: [], recoveries: Promise.resolve([]) };
  };
  if (selection.victims.length === 0)
    // The first drop (or the lack of candidates) is the round's reason; the rest count per victim.
    return skip(drops[0] ?? "no_candidates", drops.slice(1), {});
  // The hypothesis (SPEC §2 steadyState.before): no kill of a service that is not steady now.
  const unsteady = await failingProbes(target, deps);
  if (unsteady) return skip("not_steady", drops, { probes: unsteady });
  const killed = await killVictims(selection.victims, req, deps, ctx);
  if (killed.skipped) return skip("not_leader", drops, { why: killed.skipped });
  const { reports, recoveries } = killed;
  const pdbs = reports.filter((r) => r.result === "pdb").map((): SkipReason => "pdb");
  const anyKilled = reports.some((r) => r.result === "killed" || r.result === "dry_run");
  // Every victim refused by a budget: the round counts as skipped for "pdb", once.
  const refused = !anyKilled && pdbs.length > 0;
  countRound(deps.metrics, target.name, refused ? "pdb" : undefined, [
    ...drops,
    ...(refused ? pdbs.slice(1) : pdbs),
  ]);
  return {
    ...base,
    skipped: refused ? "pdb" : undefined,
    victims: reports,
    recoveries: Promise.all(recoveries),
  };
}

/** How a round ended, as the metrics count it: its own skip (or that it ran), and each victim skipped. */
function countRound(
  metrics: Metrics,
  target: string,
  round: SkipReason | undefined,
  victimSkips: readonly SkipReason[],
): void {
  if (round) metrics.roundSkipped(target, round);
  else metrics.roundRan(target);
  for (const reason of victimSkips) metrics.skipped(target, reason);
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
      ctx.log.info({ victim: candidateKey(v), owner: v.owner?.name }, LOG.WOULD_KILL);
      reports.push({ kind: v.kind, namespace: v.namespace, name: v.name, result: "dry_run" });
    }
    return { reports, recoveries };
  }
  const checked: Checked[] = [];
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
  await killJournalled(checked, { req, deps, ctx, reports, recoveries });
  return { reports, recoveries };
}

/** Kills the re-checked, journalled victims in order, adding to the round's reports. */
async function killJournalled(
  checked: readonly Checked[],
  into: {
    req: RoundRequest;
    deps: RoundDeps;
    ctx: RoundCtx;
    reports: VictimReport[];
    recoveries: Promise<RecoveryResult>[];
  },
): Promise<void> {
  const { req, deps, ctx, reports, recoveries } = into;
  let next = 0;
  try {
    for (const c of checked) {
      const r = await killOne(c, req, deps, ctx);
      reports.push(r.report);
      if (r.recovery) recoveries.push(r.recovery);
      next++;
    }
  } catch (err) {
    // The round fails here with victims journalled and not settled (the one that threw may or
    // may not have been killed): they go to the finisher, which judges each from the API
    // server, instead of staying marked busy in the journal for the process's life.
    for (const c of checked.slice(next)) deps.journal.settled(c.victim.uid, "finish");
    throw err;
  }
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
