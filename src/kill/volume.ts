// Killing a claim or a volume (SPEC §2, §7.3, §7.4): mark it with the round, delete it with a uid
// precondition, and only once the API shows it Terminating remove the finalizers the config
// names, with a JSON Patch that tests each value first; then, if asked, kill the pods that mount
// it so their controllers recreate pod and claim.
import type {
  CoreV1Api,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
} from "@kubernetes/client-node";
import type { Target } from "../config/types.js";
import { errorFields } from "../kube/errors.js";
import { leakRisk, MARK_ROUND, MARK_STRIP, MARK_TARGET, stripPlan } from "../kube/volumes.js";
import type { Logger } from "../observe/logger.js";
import type { Metrics } from "../observe/metrics.js";
import type { Candidate } from "../select/candidate.js";
import type { KillOutcome, PodRef } from "./pod.js";

type Volume = V1PersistentVolumeClaim | V1PersistentVolume;

/** The API calls a volume kill makes, for one kind (claims are namespaced, volumes are not). */
export interface VolumeApi {
  read(c: Candidate): Promise<Volume>;
  patch(c: Candidate, ops: object[]): Promise<unknown>;
  remove(c: Candidate, gracePeriodSeconds: number | undefined): Promise<unknown>;
}

export function volumeApi(core: CoreV1Api, kind: Candidate["kind"]): VolumeApi {
  if (kind === "PersistentVolumeClaim")
    return {
      read: (c) =>
        core.readNamespacedPersistentVolumeClaim({ name: c.name, namespace: c.namespace }),
      patch: (c, ops) =>
        core.patchNamespacedPersistentVolumeClaim({
          name: c.name,
          namespace: c.namespace,
          body: ops,
        }),
      remove: (c, grace) =>
        core.deleteNamespacedPersistentVolumeClaim({
          name: c.name,
          namespace: c.namespace,
          body: { preconditions: { uid: c.uid } },
          ...(grace === undefined ? {} : { gracePeriodSeconds: grace }),
        }),
    };
  return {
    read: (c) => core.readPersistentVolume({ name: c.name }),
    patch: (c, ops) => core.patchPersistentVolume({ name: c.name, body: ops }),
    remove: (c, grace) =>
      core.deletePersistentVolume({
        name: c.name,
        body: { preconditions: { uid: c.uid } },
        ...(grace === undefined ? {} : { gracePeriodSeconds: grace }),
      }),
  };
}

export interface VolumeKillDeps {
  readonly api: VolumeApi;
  readonly killPod: (pod: PodRef) => Promise<KillOutcome>;
  readonly log: Logger;
  readonly metrics: Metrics;
}

export interface VolumeKill {
  readonly victim: Candidate;
  readonly target: Target;
  readonly round: string;
  /** Pods mounting the claim (for a volume: its bound claim) when the round chose it. */
  readonly consumers: readonly PodRef[];
  /** The volume's current object, for the leak warning (undefined for a claim). */
  readonly volume?: V1PersistentVolume | undefined;
}

const escape = (key: string) => key.replace(/~/g, "~0").replace(/\//g, "~1");

/** The marker patch: our round and the finalizers we will strip, written before the delete. */
export function markPatch(
  victim: Candidate,
  x: { target: string; round: string; strip: readonly string[] },
): object[] {
  const marks: Record<string, string> = {
    [MARK_ROUND]: x.round,
    [MARK_TARGET]: x.target,
    [MARK_STRIP]: x.strip.join(","),
  };
  const ops: object[] = [{ op: "test", path: "/metadata/uid", value: victim.uid }];
  if (Object.keys(victim.annotations).length === 0)
    ops.push({ op: "add", path: "/metadata/annotations", value: marks });
  else
    for (const [k, v] of Object.entries(marks))
      ops.push({ op: "add", path: `/metadata/annotations/${escape(k)}`, value: v });
  return ops;
}

/**
 * Removes the named finalizers from `victim` if (and only if) it is Terminating. Re-reads and
 * retries when the finalizers changed under us (a failed JSON Patch test is a 422).
 */
export async function stripFinalizers(
  api: VolumeApi,
  victim: Candidate,
  named: readonly string[],
): Promise<string[]> {
  for (let attempt = 0; attempt < 3; attempt++) {
    let current: Volume;
    try {
      current = await api.read(victim);
    } catch (err) {
      if (errorFields(err).code === 404) return []; // already gone
      throw err;
    }
    const plan = stripPlan(current, { uid: victim.uid, named });
    if (!plan) return [];
    try {
      await api.patch(victim, plan.patch);
      return [...plan.finalizers];
    } catch (err) {
      const { code } = errorFields(err);
      if (code === 404) return [];
      if (code !== 422 && code !== 409) throw err;
    }
  }
  throw new Error(`finalizers of ${victim.name} kept changing; not stripped after 3 attempts`);
}

export async function killVolume(deps: VolumeKillDeps, k: VolumeKill): Promise<KillOutcome> {
  const { victim, target } = k;
  const strip = target.action.stripFinalizers;
  try {
    await deps.api.patch(victim, markPatch(victim, { target: target.name, round: k.round, strip }));
    await deps.api.remove(victim, target.action.gracePeriodSeconds);
  } catch (err) {
    const { code, message } = errorFields(err);
    // 404: gone; 409: the uid precondition failed; 422 on the mark: its uid test failed.
    if (code === 404 || code === 409 || code === 422) return { result: "gone" };
    return { result: "failed", message, code };
  }
  const stripped = await stripAfterDelete(deps, k);
  const restarted = target.action.restartConsumers ? await restartConsumers(deps, k) : 0;
  if (stripped.length === 0 && restarted === 0 && (await stillTerminating(deps.api, victim)))
    return {
      result: "terminating",
      message:
        "deleted, but its finalizers hold it (in use, and nothing was stripped or restarted)",
    };
  return { result: "killed", stripped, restarted };
}

async function stripAfterDelete(deps: VolumeKillDeps, k: VolumeKill): Promise<string[]> {
  const named = k.target.action.stripFinalizers;
  if (named.length === 0) return [];
  const risk = leakRisk(k.volume);
  if (risk)
    deps.log.warn(
      { victim: k.victim.name, risk },
      "stripping a volume's finalizers: the backing disk may leak",
    );
  try {
    const stripped = await stripFinalizers(deps.api, k.victim, named);
    for (const f of stripped) deps.metrics.finalizerStripped(k.victim.kind, f);
    deps.log.info({ victim: k.victim.name, stripped }, "finalizers stripped");
    return stripped;
  } catch (err) {
    // The marker stays: the finisher completes the strip later (SPEC §7.4).
    deps.metrics.error("strip");
    deps.log.error({ victim: k.victim.name, ...errorFields(err) }, "strip failed; will retry");
    return [];
  }
}

async function restartConsumers(deps: VolumeKillDeps, k: VolumeKill): Promise<number> {
  let restarted = 0;
  for (const pod of k.consumers) {
    const r = await deps.killPod(pod);
    if (r.result === "killed") restarted++;
    deps.log.info(
      { victim: k.victim.name, consumer: `${pod.namespace}/${pod.name}`, result: r.result },
      "consumer restarted",
    );
  }
  return restarted;
}

async function stillTerminating(api: VolumeApi, victim: Candidate): Promise<boolean> {
  try {
    const obj = await api.read(victim);
    return obj.metadata?.uid === victim.uid && Boolean(obj.metadata.deletionTimestamp);
  } catch {
    return false;
  }
}
