// Killing the chosen victims of one live round and handing them to recovery (SPEC §7):
//   1. re-check each victim against a fresh read of what the decision rests on (the object and
//      its namespace): an opt-out added after the cache saw it counts;
//   2. write the round (its tick and an entry per victim) to the journal before the first kill,
//      so no replica runs the tick again and a crash leaves a record only the monkey wrote;
//   3. kill each one with uid and resourceVersion preconditions, every write under the gate;
//   4. snapshot what recovery compares against, report, emit the Event.
// Never throws for an API answer: each is a result.
import type { Target } from "../config/types.js";
import { errorFields } from "../kube/errors.js";
import { apiVersionOf } from "../kube/events.js";
import type { EventSink, Regarding } from "../kube/events.js";
import type { JournalEntry } from "../kube/journal.js";
import type { Logger } from "../observe/logger.js";
import type { RecoveryResult, Victim } from "../recover/types.js";
import { lastPhaseSeconds } from "../recover/types.js";
import type { Candidate } from "../select/candidate.js";
import { candidateKey } from "../select/candidate.js";
import type { KillOutcome, ObjectRef, Recheck } from "../kill/types.js";
import type { RoundDeps, RoundRequest, VictimReport } from "./round-types.js";
import type { RoundCtx } from "./round-types.js";
import { baselineOf, ownersOf } from "../recover/baseline.js";
import { LOG } from "../observe/messages.js";

export function regardingOf(c: Candidate): Regarding {
  const o = c.owner;
  return o
    ? {
        apiVersion: apiVersionOf(o.kind),
        kind: o.kind,
        namespace: o.namespace,
        name: o.name,
        uid: o.uid,
      }
    : {
        apiVersion: apiVersionOf(c.kind),
        kind: c.kind,
        namespace: c.namespace,
        name: c.name,
        uid: c.uid,
      };
}

const verb = (target: Target) =>
  target.kind === "Pod" && target.action.method === "evict" ? "evicted" : "deleted";

const where = (v: Candidate) => ({ kind: v.kind, namespace: v.namespace, name: v.name });

/** The journal entry of a victim about to be killed. */
export function entryOf(
  c: Candidate,
  { target, round, atMs }: { target: Target; round: string; atMs: number },
): JournalEntry {
  return {
    uid: c.uid,
    kind: c.kind,
    namespace: c.namespace,
    name: c.name,
    round,
    target: target.name,
    strip: c.kind === "Pod" ? [] : [...target.action.stripFinalizers],
    atMs,
  };
}

/** A victim the fresh look ruled out: logged, reported, nothing written. */
export function recheckReport(
  victim: Candidate,
  r: Exclude<Recheck, { ok: true }>,
  ctx: RoundCtx,
): VictimReport {
  const key = candidateKey(victim);
  if (r.result === "gone") {
    ctx.log.info({ victim: key }, "victim already gone");
    return { ...where(victim), result: "gone" };
  }
  ctx.log.info({ victim: key, reason: r.reason }, LOG.VICTIM_NO_LONGER_ELIGIBLE);
  return { ...where(victim), result: "excluded", message: r.reason };
}

/** A refused, lost or failed kill: log and count it; nothing to recover. */
function unkilled(
  outcome: Exclude<KillOutcome, { result: "killed" }>,
  of: { victim: Candidate; req: RoundRequest; deps: RoundDeps; ctx: RoundCtx },
): VictimReport {
  const { victim, req, deps, ctx } = of;
  const key = candidateKey(victim);
  switch (outcome.result) {
    case "pdb":
      ctx.log.info(
        { victim: key, message: outcome.message },
        "kill refused by a PodDisruptionBudget",
      );
      return { ...where(victim), result: "pdb", message: outcome.message };
    case "gone":
      ctx.log.info({ victim: key }, "victim already gone");
      return { ...where(victim), result: "gone" };
    case "changed":
      ctx.log.info({ victim: key }, "victim changed since it was checked; not killed");
      return { ...where(victim), result: "changed" };
    case "terminating":
      // The delete was accepted but nothing ended the object: no kill is claimed.
      ctx.log.warn({ victim: key, message: outcome.message }, "deleted but still terminating");
      void emitSafely(deps, ctx.log, {
        reason: "ChaosKill",
        type: "Warning",
        regarding: regardingOf(victim),
        note: `target=${req.target.name} round=${ctx.round} seed=${ctx.seed}: deleted ${victim.kind.toLowerCase()} ${key}, which stays Terminating: ${outcome.message}`,
      });
      return {
        ...where(victim),
        result: "terminating",
        message: outcome.message,
        ...(outcome.consumers ? { consumers: outcome.consumers } : {}),
      };
    case "failed":
      deps.metrics.kill(req.target.name, victim.kind, victim.namespace, "failed");
      deps.metrics.error("kill");
      ctx.log.error({ victim: key, code: outcome.code, message: outcome.message }, LOG.KILL_FAILED);
      return { ...where(victim), result: "failed", message: outcome.message };
  }
}

export type Checked = { victim: Candidate; ref: ObjectRef; consumers: readonly ObjectRef[] };

/**
 * Sends the kill; when the API refuses it because the victim changed since it was checked (a
 * resourceVersion precondition), looks again once and, if it is still eligible, retries.
 */
async function killChecked(
  checked: Checked,
  req: RoundRequest,
  deps: RoundDeps,
  ctx: RoundCtx,
): Promise<KillOutcome | Exclude<Recheck, { ok: true }>> {
  const { victim } = checked;
  const { target } = req;
  let { ref, consumers } = checked;
  let outcome: KillOutcome = { result: "changed" };
  for (let attempt = 0; attempt < 2 && outcome.result === "changed"; attempt++) {
    if (attempt > 0) {
      const again = await deps.recheck(victim, target);
      if (!again.ok) return again;
      ({ ref, consumers } = again);
    }
    ctx.log.info(
      {
        victim: candidateKey(victim),
        method: target.kind === "Pod" ? target.action.method : "delete",
        // From the scheduled fire time to this request (the benchmark's tick-to-kill).
        tickToKillMs: deps.clock.now() - req.tickMs,
      },
      LOG.KILLING,
    );
    outcome = await deps.kill({ victim, ref, target, round: ctx.round, consumers });
  }
  return outcome;
}

/** Kills one re-checked, journalled victim and hands it to recovery. */
export async function killOne(
  checked: Checked,
  req: RoundRequest,
  deps: RoundDeps,
  ctx: RoundCtx,
): Promise<{ report: VictimReport; recovery?: Promise<RecoveryResult> }> {
  const { victim } = checked;
  const { target } = req;
  const key = candidateKey(victim);
  const baseline = baselineOf(victim, target, deps.view);
  const outcome = await killChecked(checked, req, deps, ctx);
  const killedAtMs = deps.clock.now();
  if ("ok" in outcome) {
    deps.journal.settled(victim.uid, "done");
    return { report: recheckReport(victim, outcome, ctx) };
  }
  if (outcome.result !== "killed") {
    // Deleted, held Terminating, and its strip failed: the journal keeps it for the finisher.
    const strip = outcome.result === "terminating" && target.action.stripFinalizers.length > 0;
    deps.journal.settled(victim.uid, strip ? "finish" : "done");
    return { report: unkilled(outcome, { victim, req, deps, ctx }) };
  }
  deps.metrics.kill(target.name, victim.kind, victim.namespace, "killed");
  ctx.log.info(
    { victim: key, stripped: outcome.stripped, restartedConsumers: outcome.restarted },
    LOG.KILL_ACCEPTED,
  );
  const regarding = regardingOf(victim);
  void emitSafely(deps, ctx.log, {
    reason: "ChaosKill",
    type: "Warning",
    regarding,
    note: `target=${target.name} round=${ctx.round} seed=${ctx.seed}: ${verb(target)} ${victim.kind.toLowerCase()} ${key}${outcome.stripped?.length ? ` and stripped ${outcome.stripped.join(", ")}` : ""}`,
  });
  const v: Victim = {
    target,
    round: ctx.round,
    seed: ctx.seed,
    ...where(victim),
    uid: victim.uid,
    owner: victim.owner,
    killedAtMs,
    knownUids: baseline.knownUids,
    consumerOwners: ownersOf(baseline.consumers, deps.view),
    claims: baseline.claims,
    restartedConsumers: (outcome.restarted ?? 0) > 0,
  };
  const recovery = deps.tracker.track(v).then(async (r) => {
    await emitRecoveryEvent(deps, ctx, { r, regarding, key });
    return r;
  });
  deps.journal.settled(victim.uid, "tracked");
  return {
    report: {
      ...where(victim),
      result: "killed",
      ...(outcome.consumers ? { consumers: outcome.consumers } : {}),
    },
    recovery,
  };
}

async function emitRecoveryEvent(
  deps: RoundDeps,
  ctx: RoundCtx,
  recovery: { r: RecoveryResult; regarding: Regarding; key: string },
): Promise<void> {
  const { r } = recovery;
  const head = `target=${r.victim.target.name} round=${ctx.round} seed=${ctx.seed}`;
  const disrupted =
    r.disruptionSeconds === undefined ? "" : `, disrupted ${r.disruptionSeconds.toFixed(1)}s`;
  const objective = r.victim.target.recoveryObjectiveMs;
  const missed =
    r.objectiveMissed && objective !== undefined
      ? `; objective missed (objective ${objective / 1000}s)`
      : "";
  if (r.outcome === "recovered")
    await emitSafely(deps, ctx.log, {
      reason: "ChaosRecovered",
      type: r.objectiveMissed ? "Warning" : "Normal",
      regarding: recovery.regarding,
      note: `${head}: recovered ${recovery.key} in ${lastPhaseSeconds(r.phases).toFixed(3)}s${disrupted}${missed}`,
    });
  else if (r.outcome === "timeout") {
    const probes = r.notSteady?.length ? `; probes not steady: ${r.notSteady.join(", ")}` : "";
    await emitSafely(deps, ctx.log, {
      reason: "ChaosNotRecovered",
      type: "Warning",
      regarding: recovery.regarding,
      note: `${head}: ${recovery.key} not recovered within ${r.victim.target.recoveryTimeoutMs / 1000}s${probes}${disrupted}${missed}`,
    });
  }
}

/** Events are writes too: sent only under the gate (leading, and the config in force is live). */
async function emitSafely(
  deps: RoundDeps,
  log: Logger,
  e: Parameters<EventSink>[0],
): Promise<void> {
  const done = deps.gate();
  if (!done) {
    log.info({ reason: e.reason }, "event not recorded: not leading, or dry-run now");
    return;
  }
  try {
    await deps.emit(e);
  } catch (err) {
    deps.metrics.error("event");
    log.warn({ ...errorFields(err), reason: e.reason }, "event not recorded");
  } finally {
    done();
  }
}
