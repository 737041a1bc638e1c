// The fresh look right before a write (SPEC §7 threat model): the caches may lag, and a tenant may
// opt an object out a moment before the round reaches it. So each victim, each consumer restarted
// with a volume, and each object the finisher strips is read again from the API server, with its
// namespace, and judged by the same rules as at selection; the kill then carries the version that
// was read (a delete precondition), so a change after this read makes the API refuse the kill.
import type { CoreV1Api, KubernetesObject, V1Namespace } from "@kubernetes/client-node";
import type { Clock } from "../clock.js";
import type { Config, Target } from "../config/types.js";
import { statusCode } from "../kube/client.js";
import type { JournalEntry } from "../kube/journal.js";
import type { Candidate, NamespaceInfo, Self } from "../select/candidate.js";
import { exclusionReason, protectionReason } from "../select/eligibility.js";
import type { Volume } from "./volume.js";
import type { ObjectRef, Recheck } from "./types.js";
import { namespaceInfo, podCandidate } from "../select/from-objects.js";
import { candidateOf, namespacesOf } from "../select/from-view.js";
import type { CandidateView } from "../select/from-view.js";

export interface RecheckDeps {
  readonly core: CoreV1Api;
  readonly view: CandidateView;
  readonly config: Config;
  readonly self: Self;
  readonly clock: Clock;
}

const orUndefined = async <T>(p: Promise<T>): Promise<T | undefined> => {
  try {
    return await p;
  } catch (err) {
    if (statusCode(err) === 404) return undefined;
    throw err;
  }
};

function read(core: CoreV1Api, kind: Candidate["kind"], ref: { namespace: string; name: string }) {
  const { namespace, name } = ref;
  if (kind === "Pod")
    return orUndefined<KubernetesObject>(core.readNamespacedPod({ name, namespace }));
  if (kind === "PersistentVolumeClaim")
    return orUndefined<KubernetesObject>(
      core.readNamespacedPersistentVolumeClaim({ name, namespace }),
    );
  return orUndefined<KubernetesObject>(core.readPersistentVolume({ name }));
}

/** The cached namespaces, with the ones `c` depends on read fresh (a missing one protects). */
async function freshNamespaces(
  deps: RecheckDeps,
  c: Candidate,
): Promise<Map<string, NamespaceInfo>> {
  const out = namespacesOf(deps.view);
  for (const ns of c.guardNamespaces) {
    const fresh = await orUndefined<V1Namespace>(deps.core.readNamespace({ name: ns }));
    if (fresh) out.set(ns, namespaceInfo(fresh));
    else out.delete(ns);
  }
  return out;
}

const refOf = (o: KubernetesObject): ObjectRef => ({
  namespace: o.metadata?.namespace ?? "",
  name: o.metadata?.name ?? "",
  uid: o.metadata?.uid ?? "",
  resourceVersion: o.metadata?.resourceVersion,
});

/** Reads `victim` again and judges it by the target's rules, as selection did. */
export async function recheckVictim(
  deps: RecheckDeps,
  victim: Candidate,
  target: Target,
): Promise<Recheck> {
  const obj = await read(deps.core, victim.kind, victim);
  if (!obj || obj.metadata?.uid !== victim.uid) return { ok: false, result: "gone" };
  const fresh = candidateOf(deps.view, victim.kind, obj);
  const reason = exclusionReason(fresh, {
    target,
    safety: deps.config.safety,
    nowMs: deps.clock.now(),
    namespaces: await freshNamespaces(deps, fresh),
    self: deps.self,
  });
  if (reason) return { ok: false, result: "excluded", reason };
  const consumers = target.kind !== "Pod" && target.action.restartConsumers ? fresh.consumers : [];
  return { ok: true, ref: refOf(obj), consumers };
}

/**
 * A pod to restart with a volume victim, read again: never one that is opted out (itself or its
 * namespace), in an excluded namespace, or the monkey's own (SPEC §7 threat model).
 */
export async function recheckConsumer(deps: RecheckDeps, pod: ObjectRef): Promise<Recheck> {
  const obj = await read(deps.core, "Pod", pod);
  if (!obj || obj.metadata?.uid !== pod.uid || obj.metadata.deletionTimestamp)
    return { ok: false, result: "gone" };
  const fresh = podCandidate(obj, deps.view.workload);
  const reason = protectionReason(fresh, {
    safety: deps.config.safety,
    namespaces: await freshNamespaces(deps, fresh),
    self: deps.self,
  });
  if (reason) return { ok: false, result: "excluded", reason };
  return { ok: true, ref: refOf(obj), consumers: [] };
}

/** Why a journalled object may not be stripped now (opted out, excluded), read fresh; if so. */
export async function protectedNow(
  deps: RecheckDeps,
  entry: JournalEntry,
  obj: Volume,
): Promise<string | undefined> {
  const fresh = candidateOf(deps.view, entry.kind, obj);
  return protectionReason(fresh, {
    safety: deps.config.safety,
    namespaces: await freshNamespaces(deps, fresh),
    self: deps.self,
  });
}
