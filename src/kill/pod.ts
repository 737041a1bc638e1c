// Killing one pod: the Eviction API by default (PodDisruptionBudgets apply; 429 means a budget
// said no), or a plain DELETE. Both carry a uid precondition, so a pod recreated under the same
// name (a StatefulSet's) is never hit by mistake.
import type { CoreV1Api } from "@kubernetes/client-node";
import type { Action } from "../config/types.js";
import { errorFields } from "../kube/errors.js";

export type KillOutcome =
  | {
      readonly result: "killed";
      readonly stripped?: readonly string[];
      readonly restarted?: number;
    }
  | { readonly result: "terminating"; readonly message: string }
  | { readonly result: "pdb"; readonly message: string }
  | { readonly result: "gone" }
  | { readonly result: "failed"; readonly message: string; readonly code: number | undefined };

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export async function killPod(core: CoreV1Api, pod: PodRef, action: Action): Promise<KillOutcome> {
  const deleteOptions = {
    preconditions: { uid: pod.uid },
    ...(action.gracePeriodSeconds === undefined
      ? {}
      : { gracePeriodSeconds: action.gracePeriodSeconds }),
  };
  try {
    if (action.method === "evict")
      await core.createNamespacedPodEviction({
        name: pod.name,
        namespace: pod.namespace,
        body: {
          apiVersion: "policy/v1",
          kind: "Eviction",
          metadata: { name: pod.name, namespace: pod.namespace },
          deleteOptions,
        },
      });
    else
      await core.deleteNamespacedPod({
        name: pod.name,
        namespace: pod.namespace,
        body: deleteOptions,
        ...(action.gracePeriodSeconds === undefined
          ? {}
          : { gracePeriodSeconds: action.gracePeriodSeconds }),
      });
    return { result: "killed" };
  } catch (err) {
    const { code, message } = errorFields(err);
    if (code === 429) return { result: "pdb", message };
    // 404: gone already; 409: the uid precondition failed, so the pod we chose no longer exists.
    if (code === 404 || code === 409) return { result: "gone" };
    return { result: "failed", message, code };
  }
}
