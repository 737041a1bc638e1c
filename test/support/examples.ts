// The example workloads of kustomize/examples, rendered by kubectl kustomize and moved into a
// test's own namespace (volumes get namespace-prefixed names and claimRefs so files can share
// the cluster).
import { execFileSync } from "node:child_process";
import type { KubernetesObject, V1PersistentVolume } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import type { Kube } from "./kube.js";
import { statusOf } from "./kube.js";

const EXAMPLES = new URL("../../kustomize/examples", import.meta.url).pathname;

export function renderExamples(namespace: string): KubernetesObject[] {
  const yaml = execFileSync("kubectl", ["kustomize", EXAMPLES], { encoding: "utf8" });
  return parseAllDocuments(yaml)
    .map((d) => d.toJS() as KubernetesObject)
    .filter((o) => o.kind !== "Namespace")
    .map((o) => relocate(o, namespace));
}

function relocate(obj: KubernetesObject, namespace: string): KubernetesObject {
  if (obj.metadata?.namespace) obj.metadata.namespace = namespace;
  if (obj.kind === "PersistentVolume") {
    const pv = obj as V1PersistentVolume;
    pv.metadata = { ...pv.metadata, name: `${namespace}-${pv.metadata?.name ?? ""}` };
    pv.metadata.labels = { ...pv.metadata.labels, "e2e.chaos-monkey.io/namespace": namespace };
    if (pv.spec?.claimRef) pv.spec.claimRef.namespace = namespace;
  }
  return obj;
}

/** Creates the examples in `namespace`; shared cluster-scoped ones (the StorageClass) only once. */
export async function applyExamples(
  kube: Kube,
  namespace: string,
  kinds?: string[],
): Promise<KubernetesObject[]> {
  const objs = renderExamples(namespace).filter((o) => !kinds || kinds.includes(o.kind ?? ""));
  for (const o of objs) {
    try {
      await kube.objects.create(o);
    } catch (err) {
      if (!(statusOf(err) === 409 && o.kind === "StorageClass")) throw err;
    }
  }
  return objs;
}

/** Removes the namespace's cluster-scoped volumes (the namespace deletion takes the rest). */
export async function deleteExampleVolumes(kube: Kube, namespace: string): Promise<void> {
  const pvs = await kube.core.listPersistentVolume({
    labelSelector: `e2e.chaos-monkey.io/namespace=${namespace}`,
  });
  for (const pv of pvs.items) {
    const name = pv.metadata?.name ?? "";
    try {
      await kube.core.deletePersistentVolume({ name });
      if (pv.metadata?.finalizers?.length)
        await kube.core.patchPersistentVolume({
          name,
          body: [{ op: "remove", path: "/metadata/finalizers" }],
        });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
  }
}
