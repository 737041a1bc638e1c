// Killing a claim or a volume (SPEC §2, §7.3): delete it with uid and resourceVersion
// preconditions (the very object, as it was checked a moment ago), and only once the API shows it
// Terminating remove the finalizers the config names, with a JSON Patch that tests each value
// first; then, if asked, restart the pods that mount it so their controllers recreate pod and
// claim. The journal entry written before the delete (src/kube/journal.ts) is what lets the next
// leader finish a strip a crash interrupted; nothing is written on the object itself.
import type {
  CoreV1Api,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
} from "@kubernetes/client-node";
import type { Target } from "../config/types.js";
import { errorFields } from "../kube/errors.js";
import type { WriteGate } from "../kube/journal.js";
import type { Logger } from "../observe/logger.js";
import type { Metrics } from "../observe/metrics.js";
import { leakRisk, stripPlan } from "./strip.js";
import type { ConsumerKill, KillOutcome, ObjectRef } from "./types.js";
import { LOG } from "../observe/messages.js";

export type Volume = V1PersistentVolumeClaim | V1PersistentVolume;

/** The API calls a volume kill makes, for one kind (claims are namespaced, volumes are not). */
export interface VolumeApi {
  read(c: ObjectRef): Promise<Volume>;
  patch(c: ObjectRef, ops: object[]): Promise<unknown>;
  remove(c: ObjectRef, gracePeriodSeconds: number | undefined): Promise<unknown>;
}

const preconditions = (c: ObjectRef) => ({
  preconditions: {
    uid: c.uid,
    ...(c.resourceVersion ? { resourceVersion: c.resourceVersion } : {}),
  },
});

export function volumeApi(core: CoreV1Api, kind: string): VolumeApi {
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
          body: preconditions(c),
          ...(grace === undefined ? {} : { gracePeriodSeconds: grace }),
        }),
    };
  return {
    read: (c) => core.readPersistentVolume({ name: c.name }),
    patch: (c, ops) => core.patchPersistentVolume({ name: c.name, body: ops }),
    remove: (c, grace) =>
      core.deletePersistentVolume({
        name: c.name,
        body: preconditions(c),
        ...(grace === undefined ? {} : { gracePeriodSeconds: grace }),
      }),
  };
}

export interface VolumeKillDeps {
  readonly api: VolumeApi;
  /** Before every write: may this process write now (leader, live config)? */
  readonly gate: WriteGate;
  /** Restarts one consumer pod (re-checked for eligibility and gated by the caller). */
  readonly restartConsumer: (pod: ObjectRef) => Promise<KillOutcome>;
  readonly log: Logger;
  readonly metrics: Metrics;
}

export interface VolumeKill {
  readonly kind: "PersistentVolumeClaim" | "PersistentVolume";
  /** The victim at the version its eligibility was last checked. */
  readonly victim: ObjectRef;
  readonly target: Target;
  /** Pods mounting the claim (for a volume: its bound claim), when restartConsumers. */
  readonly consumers: readonly ObjectRef[];
  /** The volume's current object, for the leak warning (undefined for a claim). */
  readonly volume?: V1PersistentVolume | undefined;
}

export class NotLeading extends Error {
  constructor() {
    super("not leading any more (or the config turned dry-run): write not sent");
  }
}

/** Runs one write under the gate; throws NotLeading without it. */
export async function gated<T>(gate: WriteGate, write: () => Promise<T>): Promise<T> {
  const done = gate();
  if (!done) throw new NotLeading();
  try {
    return await write();
  } finally {
    done();
  }
}

/**
 * Removes the named finalizers from `victim` if (and only if) it is Terminating. Re-reads and
 * retries when the finalizers changed under us (a failed JSON Patch test is a 422).
 */
export async function stripFinalizers(
  api: VolumeApi,
  victim: ObjectRef,
  named: readonly string[],
  gate: WriteGate,
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
      await gated(gate, () => api.patch(victim, plan.patch));
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
  try {
    await gated(deps.gate, () => deps.api.remove(victim, target.action.gracePeriodSeconds));
  } catch (err) {
    if (err instanceof NotLeading)
      return { result: "failed", message: err.message, code: undefined };
    const { code, message } = errorFields(err);
    // 404: gone. 409: a precondition failed: another object now, or this one changed since it
    // was checked (an opt-out added?): not what the decision was about.
    if (code === 404) return { result: "gone" };
    if (code === 409) return { result: "changed" };
    return { result: "failed", message, code };
  }
  const stripped = await stripAfterDelete(deps, k);
  const consumers = target.action.restartConsumers ? await restartConsumers(deps, k) : [];
  const restarted = consumers.filter((c) => c.result === "killed").length;
  if (stripped.length === 0 && restarted === 0 && (await stillTerminating(deps.api, victim)))
    return {
      result: "terminating",
      message:
        "deleted, but its finalizers hold it (in use, and nothing was stripped or restarted)",
      consumers,
    };
  return { result: "killed", stripped, restarted, consumers };
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
    const stripped = await stripFinalizers(deps.api, k.victim, named, deps.gate);
    for (const f of stripped) deps.metrics.finalizerStripped(k.kind, f);
    deps.log.info({ victim: k.victim.name, stripped }, "finalizers stripped");
    return stripped;
  } catch (err) {
    // The journal entry stays: the finisher completes the strip later (SPEC §7.4).
    deps.metrics.error("strip");
    deps.log.error({ victim: k.victim.name, ...errorFields(err) }, LOG.STRIP_FAILED);
    return [];
  }
}

async function restartConsumers(deps: VolumeKillDeps, k: VolumeKill): Promise<ConsumerKill[]> {
  const out: ConsumerKill[] = [];
  for (const pod of k.consumers) {
    const r = await deps.restartConsumer(pod);
    out.push({ namespace: pod.namespace, name: pod.name, result: r.result });
    deps.log.info(
      { victim: k.victim.name, consumer: `${pod.namespace}/${pod.name}`, result: r.result },
      "consumer restarted",
    );
  }
  return out;
}

async function stillTerminating(api: VolumeApi, victim: ObjectRef): Promise<boolean> {
  try {
    const obj = await api.read(victim);
    return obj.metadata?.uid === victim.uid && Boolean(obj.metadata.deletionTimestamp);
  } catch {
    return false;
  }
}
