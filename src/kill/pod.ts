// Killing one pod: the Eviction API by default (PodDisruptionBudgets apply; 429 means a budget
// said no), or a plain DELETE. Both carry a uid precondition, so a pod recreated under the same
// name (a StatefulSet's) is never hit by mistake, and the resourceVersion the monkey last checked
// it at, so a pod changed since (an opt-out annotation added a moment ago) is not hit either.
import type { CoreV1Api } from "@kubernetes/client-node";
import type { Action } from "../config/types.js";
import { errorFields } from "../kube/errors.js";
import type { KillOutcome, ObjectRef } from "./types.js";

export async function killPod(
  core: CoreV1Api,
  pod: ObjectRef,
  action: Action,
): Promise<KillOutcome> {
  const deleteOptions = {
    preconditions: {
      uid: pod.uid,
      ...(pod.resourceVersion ? { resourceVersion: pod.resourceVersion } : {}),
    },
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
    // 404: gone already. 409: a precondition failed: the pod we chose no longer exists, or it
    // changed since it was checked; either way it is not the object the decision was about.
    if (code === 404) return { result: "gone" };
    if (code === 409) return { result: "changed" };
    return { result: "failed", message, code };
  }
}
