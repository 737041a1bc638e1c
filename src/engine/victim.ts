// Killing one chosen victim and handing it to recovery: snapshot what recovery will compare
// against, kill, report, emit the Event. Never throws for an API answer: each is a result.
import type { V1Pod } from "@kubernetes/client-node";
import type { Target } from "../config/types.js";
import { errorFields } from "../kube/errors.js";
import { apiVersionOf } from "../kube/events.js";
import type { EventSink, Regarding } from "../kube/events.js";
import { topOwner } from "../kube/objects.js";
import type { ClusterView } from "../kube/view.js";
import type { KillOutcome, PodRef } from "../kill/pod.js";
import type { Logger } from "../observe/logger.js";
import type { RecoveryResult, Victim } from "../recover/types.js";
import type { Candidate, WorkloadRef } from "../select/candidate.js";
import { candidateKey } from "../select/candidate.js";
import type { RoundDeps, RoundRequest, VictimReport } from "./round.js";

export interface KillRequest {
  readonly victim: Candidate;
  readonly target: Target;
  readonly round: string;
  /** Volumes: the pods mounting the claim when it was chosen. */
  readonly consumers: readonly PodRef[];
}
export type Killer = (k: KillRequest) => Promise<KillOutcome>;

export interface RoundCtx {
  readonly seed: string;
  readonly round: string;
  readonly log: Logger;
}

/** What recovery compares against: the pods there were, and for a volume its claims and consumers. */
interface Before {
  readonly knownUids: Set<string>;
  readonly consumers: readonly V1Pod[];
  readonly claims: readonly { namespace: string; name: string }[];
}

function claimsOf(victim: Candidate, view: ClusterView): { namespace: string; name: string }[] {
  if (victim.kind === "PersistentVolumeClaim")
    return [{ namespace: victim.namespace, name: victim.name }];
  const ref = view.volume(victim.name)?.spec?.claimRef;
  return ref?.namespace && ref.name ? [{ namespace: ref.namespace, name: ref.name }] : [];
}

function before(victim: Candidate, target: Target, view: ClusterView): Before {
  if (victim.kind === "Pod") {
    // Pods of the same workload before the kill: anything else that appears is a replacement.
    const owner = victim.owner;
    const pods = owner ? view.workloadPods(target.name, owner) : [];
    return {
      knownUids: new Set([victim.uid, ...pods.map((p) => p.metadata?.uid ?? "")]),
      consumers: [],
      claims: [],
    };
  }
  const claims = claimsOf(victim, view);
  const consumers = claims.flatMap((c) => view.consumers(c.namespace, c.name));
  return { knownUids: new Set(consumers.map((p) => p.metadata?.uid ?? "")), consumers, claims };
}

const podRef = (p: V1Pod): PodRef => ({
  namespace: p.metadata?.namespace ?? "",
  name: p.metadata?.name ?? "",
  uid: p.metadata?.uid ?? "",
});

function ownersOf(pods: readonly V1Pod[], view: ClusterView): WorkloadRef[] {
  const out = new Map<string, WorkloadRef>();
  for (const p of pods) {
    const o = topOwner(p, view.workload);
    if (o) out.set(o.uid, o);
  }
  return [...out.values()];
}

function regardingOf(c: Candidate): Regarding {
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

/** A refused, lost or failed kill: log and count it; nothing to recover. */
function unkilled(
  outcome: Exclude<KillOutcome, { result: "killed" }>,
  x: { victim: Candidate; req: RoundRequest; deps: RoundDeps; ctx: RoundCtx },
): VictimReport {
  const { victim, req, deps, ctx } = x;
  const key = candidateKey(victim);
  const where = { kind: victim.kind, namespace: victim.namespace, name: victim.name };
  switch (outcome.result) {
    case "pdb":
      ctx.log.info(
        { victim: key, message: outcome.message },
        "kill refused by a PodDisruptionBudget",
      );
      return { ...where, result: "pdb", message: outcome.message };
    case "gone":
      ctx.log.info({ victim: key }, "victim already gone");
      return { ...where, result: "gone" };
    case "terminating":
      // The delete was accepted but nothing ended the object: no kill is claimed.
      ctx.log.warn({ victim: key, message: outcome.message }, "deleted but still terminating");
      void emitSafely(deps, ctx.log, {
        reason: "ChaosKill",
        type: "Warning",
        regarding: regardingOf(victim),
        note: `target=${req.target.name} round=${ctx.round} seed=${ctx.seed}: deleted ${victim.kind.toLowerCase()} ${key}, which stays Terminating: ${outcome.message}`,
      });
      return { ...where, result: "terminating", message: outcome.message };
    case "failed":
      deps.metrics.kill(req.target.name, victim.kind, victim.namespace, "failed");
      deps.metrics.error("kill");
      ctx.log.error({ victim: key, code: outcome.code, message: outcome.message }, "kill failed");
      return { ...where, result: "failed", message: outcome.message };
  }
}

export async function killOne(
  victim: Candidate,
  req: RoundRequest,
  deps: RoundDeps,
  ctx: RoundCtx,
): Promise<{ report: VictimReport; recovery?: Promise<RecoveryResult> }> {
  const { target, config } = req;
  const key = candidateKey(victim);
  const where = { kind: victim.kind, namespace: victim.namespace, name: victim.name };
  if (config.dryRun) {
    deps.metrics.kill(target.name, victim.kind, victim.namespace, "dry_run");
    ctx.log.info({ victim: key, owner: victim.owner?.name }, "would kill (dry run)");
    return { report: { ...where, result: "dry_run" } };
  }
  const snap = before(victim, target, deps.view);
  ctx.log.info(
    {
      victim: key,
      method: target.kind === "Pod" ? target.action.method : "delete",
      // From the scheduled fire time to this request (the benchmark's tick-to-kill).
      tickToKillMs: deps.clock.now() - req.tickMs,
    },
    "killing",
  );
  const outcome = await deps.kill({
    victim,
    target,
    round: ctx.round,
    consumers: snap.consumers.map(podRef),
  });
  const killedAtMs = deps.clock.now();
  if (outcome.result !== "killed") return { report: unkilled(outcome, { victim, req, deps, ctx }) };
  deps.metrics.kill(target.name, victim.kind, victim.namespace, "killed");
  ctx.log.info(
    { victim: key, stripped: outcome.stripped, restartedConsumers: outcome.restarted },
    "kill accepted",
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
    ...where,
    uid: victim.uid,
    owner: victim.owner,
    killedAtMs,
    knownUids: snap.knownUids,
    consumerOwners: ownersOf(snap.consumers, deps.view),
    claims: snap.claims,
    restartedConsumers: (outcome.restarted ?? 0) > 0,
  };
  const recovery = deps.tracker.track(v).then(async (r) => {
    await emitRecoveryEvent(deps, ctx, { r, regarding, key });
    return r;
  });
  return { report: { ...where, result: "killed" }, recovery };
}

async function emitRecoveryEvent(
  deps: RoundDeps,
  ctx: RoundCtx,
  x: { r: RecoveryResult; regarding: Regarding; key: string },
): Promise<void> {
  const { r } = x;
  if (r.outcome === "recovered")
    await emitSafely(deps, ctx.log, {
      reason: "ChaosRecovered",
      type: "Normal",
      regarding: x.regarding,
      note: `target=${r.victim.target.name} round=${ctx.round} seed=${ctx.seed}: recovered ${x.key} in ${r.phases.recovered?.toFixed(3) ?? "?"}s`,
    });
  else if (r.outcome === "timeout")
    await emitSafely(deps, ctx.log, {
      reason: "ChaosNotRecovered",
      type: "Warning",
      regarding: x.regarding,
      note: `target=${r.victim.target.name} round=${ctx.round} seed=${ctx.seed}: ${x.key} not recovered within ${r.victim.target.recoveryTimeoutMs / 1000}s`,
    });
}

async function emitSafely(
  deps: RoundDeps,
  log: Logger,
  e: Parameters<EventSink>[0],
): Promise<void> {
  try {
    await deps.emit(e);
  } catch (err) {
    deps.metrics.error("event");
    log.warn({ ...errorFields(err), reason: e.reason }, "event not recorded");
  }
}
