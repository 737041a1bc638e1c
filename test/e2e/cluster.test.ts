// Acceptance of the local control plane itself: real controllers, real protection finalizers,
// real RBAC, KWOK's readiness delays.
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { applyExamples, deleteExampleVolumes } from "../support/examples.js";
import type { Kube } from "../support/kube.js";
import {
  connect,
  createNamespace,
  deleteNamespace,
  isPodReady,
  preciseNow,
  statusOf,
  watchUntil,
} from "../support/kube.js";

// kwok-stages.yaml: Ready 1-3 s after scheduling. Scheduling and the ReplicaSet controller add a
// little on top, so the upper bound has room for them.
const READY_MIN_MS = 1000;
const READY_MAX_MS = 3000 + 1500;

let kube: Kube;
let ns: string;

beforeAll(async () => {
  kube = connect(inject("kubeconfig"));
  ns = await createNamespace(kube, "e2e-cluster");
  await applyExamples(kube, ns);
});

afterAll(async () => {
  await deleteNamespace(kube, ns);
  await deleteExampleVolumes(kube, ns);
});

const podsPath = () => `/api/v1/namespaces/${ns}/pods`;

async function readyPods(labelSelector: string): Promise<k8s.V1Pod[]> {
  const list = await kube.core.listNamespacedPod({ namespace: ns, labelSelector });
  return list.items.filter((p) => isPodReady(p) && !p.metadata?.deletionTimestamp);
}

async function waitReadyCount(
  resource: "deployments" | "statefulsets",
  name: string,
  count: number,
): Promise<void> {
  await watchUntil<k8s.V1Deployment | k8s.V1StatefulSet>(kube, {
    path: `/apis/apps/v1/namespaces/${ns}/${resource}`,
    query: { fieldSelector: `metadata.name=${name}` },
    until: (_t, o) => (o.status?.readyReplicas ?? 0) >= count,
    timeoutMs: 60_000,
  });
}

/** Removes pvc-protection, testing first that it is the finalizer there (never a blind remove). */
async function stripPvcProtection(name: string): Promise<void> {
  await kube.core.patchNamespacedPersistentVolumeClaim({
    name,
    namespace: ns,
    body: [
      { op: "test", path: "/metadata/finalizers/0", value: "kubernetes.io/pvc-protection" },
      { op: "remove", path: "/metadata/finalizers/0" },
    ],
  });
}

describe("local control plane", () => {
  it("runs web to 3 Ready pods and replaces a deleted one within the stage delay", async () => {
    await waitReadyCount("deployments", "web", 3);
    const [victim] = await readyPods("app=web");
    expect(victim).toBeDefined();
    const uid = victim?.metadata?.uid ?? "";
    const known = new Set(
      (await kube.core.listNamespacedPod({ namespace: ns })).items.map((p) => p.metadata?.uid),
    );
    const replacement = watchUntil<k8s.V1Pod>(kube, {
      path: podsPath(),
      query: { labelSelector: "app=web" },
      until: (_t, p) => !known.has(p.metadata?.uid) && isPodReady(p),
      timeoutMs: 30_000,
    });
    await kube.core.deleteNamespacedPod({
      name: victim?.metadata?.name ?? "",
      namespace: ns,
      body: { preconditions: { uid } },
    });
    const deletedAt = preciseNow();
    const ready = await replacement;
    const elapsed = ready.atMs - deletedAt;
    expect(elapsed).toBeGreaterThanOrEqual(READY_MIN_MS);
    expect(elapsed).toBeLessThanOrEqual(READY_MAX_MS);
  });

  it("binds db's claims to the static volumes, with protection finalizers on both", async () => {
    await waitReadyCount("statefulsets", "db", 2);
    const claims = (await kube.core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items;
    expect(claims.map((c) => c.metadata?.name).sort()).toEqual(["data-db-0", "data-db-1"]);
    for (const claim of claims) {
      expect(claim.status?.phase).toBe("Bound");
      expect(claim.spec?.volumeName).toBe(`${ns}-demo-db-data-${claim.metadata?.name?.slice(-1)}`);
      expect(claim.metadata?.finalizers).toContain("kubernetes.io/pvc-protection");
      const pv = await kube.core.readPersistentVolume({ name: claim.spec?.volumeName ?? "" });
      expect(pv.status?.phase).toBe("Bound");
      expect(pv.metadata?.finalizers).toContain("kubernetes.io/pv-protection");
    }
  });

  it("keeps a deleted claim in use Terminating until its finalizer is removed", async () => {
    await waitReadyCount("statefulsets", "db", 2);
    const name = "data-db-1";
    await kube.core.deleteNamespacedPersistentVolumeClaim({ name, namespace: ns });
    const terminating = await kube.core.readNamespacedPersistentVolumeClaim({
      name,
      namespace: ns,
    });
    expect(terminating.metadata?.deletionTimestamp).toBeDefined();
    // pvc-protection holds it while pod db-1 uses it: still there a few seconds later.
    await new Promise((r) => setTimeout(r, 3000));
    const still = await kube.core.readNamespacedPersistentVolumeClaim({ name, namespace: ns });
    expect(still.metadata?.uid).toBe(terminating.metadata?.uid);
    expect(still.metadata?.finalizers).toContain("kubernetes.io/pvc-protection");
    // Strip only once the watch has shown the claim: a deletion before the watch connects
    // would otherwise never be seen (this raced on a loaded CI machine).
    let watching!: () => void;
    const connected = new Promise<void>((r) => (watching = r));
    const gone = watchUntil(kube, {
      path: `/api/v1/namespaces/${ns}/persistentvolumeclaims`,
      query: { fieldSelector: `metadata.name=${name}` },
      until: (type, o) => {
        watching();
        return type === "DELETED" && o.metadata?.uid === still.metadata?.uid;
      },
      timeoutMs: 15_000,
    });
    await connected;
    await stripPvcProtection(name);
    await gone;
  });

  it("puts pvc-protection back when it is removed from a claim that is not being deleted", async () => {
    await waitReadyCount("statefulsets", "db", 1);
    const name = "data-db-0";
    const before = await kube.core.readNamespacedPersistentVolumeClaim({ name, namespace: ns });
    expect(before.metadata?.finalizers).toEqual(["kubernetes.io/pvc-protection"]);
    await stripPvcProtection(name);
    // What this real cluster shows: the pvc-protection controller adds the finalizer again.
    const back = await watchUntil<k8s.V1PersistentVolumeClaim>(kube, {
      path: `/api/v1/namespaces/${ns}/persistentvolumeclaims`,
      query: { fieldSelector: `metadata.name=${name}` },
      until: (_t, o) =>
        o.metadata?.finalizers?.includes("kubernetes.io/pvc-protection") === true &&
        o.metadata.resourceVersion !== before.metadata?.resourceVersion,
      timeoutMs: 30_000,
    });
    expect(back.object.metadata?.uid).toBe(before.metadata?.uid);
  });

  it("enforces RBAC: a ServiceAccount without a role gets 403 listing pods", async () => {
    const sa = "no-rights";
    await kube.core.createNamespacedServiceAccount({
      namespace: ns,
      body: { metadata: { name: sa } },
    });
    const token = await kube.core.createNamespacedServiceAccountToken({
      name: sa,
      namespace: ns,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const cluster = kube.kc.getCurrentCluster();
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ ...cluster, name: "c" } as k8s.Cluster],
      users: [{ name: sa, token: token.status?.token ?? "" }],
      contexts: [{ name: "c", cluster: "c", user: sa }],
      currentContext: "c",
    });
    const asSa = kc.makeApiClient(k8s.CoreV1Api);
    const err = await asSa.listNamespacedPod({ namespace: ns }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(statusOf(err)).toBe(403);
  });
});
