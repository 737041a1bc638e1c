// Which kill a victim gets: a pod is evicted or deleted (kill/pod.ts); a claim or volume is
// deleted and stripped, its consumers restarted (kill/volume.ts). Every write goes under the
// gate; a consumer is re-checked fresh before it is killed, as any victim is (SPEC §7).
import type { CoreV1Api, V1PersistentVolume } from "@kubernetes/client-node";
import type { Target } from "../config/types.js";
import type { WriteGate } from "../kube/journal.js";
import type { Logger } from "../observe/logger.js";
import type { Metrics } from "../observe/metrics.js";
import { killPod } from "./pod.js";
import type { Killer, KillOutcome, ObjectRef, Recheck } from "./types.js";
import { gated, killVolume, NotLeading, volumeApi } from "./volume.js";

export interface KillerDeps {
  readonly core: CoreV1Api;
  readonly gate: WriteGate;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** A consumer pod read again and judged, right before it is restarted. */
  readonly recheckConsumer: (pod: ObjectRef) => Promise<Recheck>;
  /** The cached volume of that name (its claim and finalizers, for the strip). */
  readonly volume: (name: string) => V1PersistentVolume | undefined;
}

export function killer(deps: KillerDeps): Killer {
  const { core, gate } = deps;
  return async ({ victim, ref, target, consumers }) => {
    if (victim.kind === "Pod")
      return gated(gate, () =>
        killPod(core, { ...ref, namespace: victim.namespace }, target.action),
      ).catch(notLeading);
    return killVolume(
      {
        api: volumeApi(core, victim.kind),
        gate,
        restartConsumer: async (p: ObjectRef) => {
          const again = await deps.recheckConsumer(p);
          if (!again.ok)
            return again.result === "gone" ? { result: "gone" } : { result: "changed" };
          return gated(gate, () => killPod(core, again.ref, consumerAction(target))).catch(
            notLeading,
          );
        },
        log: deps.log,
        metrics: deps.metrics,
      },
      {
        kind: victim.kind,
        victim: ref,
        target,
        consumers,
        volume: victim.kind === "PersistentVolume" ? deps.volume(victim.name) : undefined,
      },
    );
  };
}

/** The Lease was lost before the write: the kill failed, nothing was written. */
const notLeading = (err: unknown): KillOutcome => {
  if (err instanceof NotLeading) return { result: "failed", message: err.message, code: undefined };
  throw err;
};

/** How consumers of a killed volume are restarted: as the target says (evict by default). */
function consumerAction(target: Target) {
  return {
    method: target.action.method,
    gracePeriodSeconds: target.action.gracePeriodSeconds,
    stripFinalizers: [],
    restartConsumers: false,
  };
}
