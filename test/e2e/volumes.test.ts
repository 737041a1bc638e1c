// Volume chaos on the real control plane (issue 4 acceptance): claims and volumes killed with
// their protection finalizers stripped after the delete, honest recovery with and without an
// operator that rebinds static volumes, a claim held Terminating reported as such, a crashed
// round finished by the next leader, and volumes outside the selector left alone.
import * as k8s from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { applyExamples, deleteExampleVolumes } from "../support/examples.js";
import { createNamespace, deleteNamespace, statusOf, watchUntil } from "../support/kube.js";
import { chaosConfig, metricSum, scrape } from "../support/monkey.js";
import { VolumeReconciler } from "../support/reconciler.js";
import { e2eSuite } from "../support/suite.js";
import { LOG } from "../../src/observe/messages.js";

const PVC_PROTECTION = "kubernetes.io/pvc-protection";
// Each test makes its own namespace (dbWorld); it, the monkeys, the reconciler and the policies
// go after the test (t.onCleanup).
const t = e2eSuite("e2e-vol", { workloads: false });

/** A namespace with StatefulSet db (2 replicas) on its own static volumes, all Ready and Bound. */
async function dbWorld(): Promise<{ ns: string; volumeLabel: string }> {
  const ns = await createNamespace(t.kube, "e2e-vol");
  t.onCleanup(async () => {
    await deleteNamespace(t.kube, ns);
    await deleteExampleVolumes(t.kube, ns);
  });
  await applyExamples(t.kube, ns, ["StorageClass", "PersistentVolume", "StatefulSet"]);
  await watchUntil<k8s.V1StatefulSet>(t.kube, {
    path: `/apis/apps/v1/namespaces/${ns}/statefulsets`,
    until: (_t, s) => (s.status?.readyReplicas ?? 0) >= 2,
    timeoutMs: 60_000,
  });
  return { ns, volumeLabel: `e2e.chaos-monkey.io/namespace=${ns}` };
}

async function reconciler(
  label: string,
  opts: { release: boolean; recreate: boolean },
): Promise<VolumeReconciler> {
  const r = new VolumeReconciler(t.kube, label, opts);
  await r.start();
  t.onCleanup(() => r.stop());
  return r;
}

const phaseCounts = (m: Map<string, number>, target: string, kind: string) =>
  Object.fromEntries(
    ["replaced", "ready", "recovered"].map((phase) => [
      phase,
      metricSum(m, "chaos_monkey_recovery_seconds_count", { target, kind, phase }),
    ]),
  );

describe("volume chaos", () => {
  it("kills a db claim: strips pvc-protection after the delete, the StatefulSet recreates claim and pod, recovery is measured", async () => {
    const { ns, volumeLabel } = await dbWorld();
    const before = await t.kube.core.readNamespacedPersistentVolumeClaim({
      name: "data-db-0",
      namespace: ns,
    });
    const ops = await reconciler(volumeLabel, { release: true, recreate: false });
    const m = await t.run(
      chaosConfig([
        {
          name: "claims",
          kind: "PersistentVolumeClaim",
          schedule: "@every 2s",
          selector: { namespaces: [ns], labelSelector: "app=db", includeNames: ["^data-db-0$"] },
          action: { stripFinalizers: true, restartConsumers: true },
          recovery: { timeout: "60s" },
        },
      ]),
    );
    const end = await m.waitForLog((l) => l.msg === LOG.RECOVERY_ENDED, 90_000);
    expect(end.outcome).toBe("recovered");
    const phases = end.phases as Record<string, number>;
    expect(phases.replaced).toBeLessThanOrEqual(phases.ready ?? 0);
    expect(phases.ready).toBeLessThanOrEqual(phases.recovered ?? 0);
    const accepted = m.logs.find((l) => l.msg === LOG.KILL_ACCEPTED);
    expect(accepted?.stripped).toEqual([PVC_PROTECTION]);
    expect(accepted?.restartedConsumers).toBe(1);
    const metrics = await scrape(m.port);
    expect(phaseCounts(metrics, "claims", "PersistentVolumeClaim")).toEqual({
      replaced: 1,
      ready: 1,
      recovered: 1,
    });
    expect(
      metricSum(metrics, "chaos_monkey_finalizers_stripped_total", {
        kind: "PersistentVolumeClaim",
        finalizer: PVC_PROTECTION,
      }),
    ).toBeGreaterThanOrEqual(1);
    const after = await t.kube.core.readNamespacedPersistentVolumeClaim({
      name: "data-db-0",
      namespace: ns,
    });
    expect(after.metadata?.uid).not.toBe(before.metadata?.uid);
    expect(after.status?.phase).toBe("Bound");
    expect(after.spec?.volumeName).toBe(before.spec?.volumeName);
    expect(ops.actions).toContain(`released ${before.spec?.volumeName}`);
  }, 150_000);

  it("kills a bound volume: strips pv-protection, the claim is Lost, and an operator recreating the volume ends in recovery", async () => {
    const { ns, volumeLabel } = await dbWorld();
    const claim = await t.kube.core.readNamespacedPersistentVolumeClaim({
      name: "data-db-0",
      namespace: ns,
    });
    const victim = await t.kube.core.readPersistentVolume({ name: claim.spec?.volumeName ?? "" });
    const lost = watchUntil<k8s.V1PersistentVolumeClaim>(t.kube, {
      path: `/api/v1/namespaces/${ns}/persistentvolumeclaims`,
      query: { fieldSelector: "metadata.name=data-db-0" },
      until: (_t, c) => c.status?.phase === "Lost",
      timeoutMs: 60_000,
    });
    const ops = await reconciler(volumeLabel, { release: false, recreate: true });
    const m = await t.run(
      chaosConfig([
        {
          name: "volumes",
          kind: "PersistentVolume",
          schedule: "@every 2s",
          selector: { labelSelector: volumeLabel, includeNames: [`^${victim.metadata?.name}$`] },
          action: { stripFinalizers: true },
          recovery: { timeout: "60s" },
        },
      ]),
    );
    await lost;
    const end = await m.waitForLog((l) => l.msg === LOG.RECOVERY_ENDED, 90_000);
    expect(end.outcome).toBe("recovered");
    expect(m.logs.find((l) => l.msg === LOG.KILL_ACCEPTED)?.stripped).toEqual([
      "kubernetes.io/pv-protection",
    ]);
    const metrics = await scrape(m.port);
    expect(phaseCounts(metrics, "volumes", "PersistentVolume")).toEqual({
      replaced: 1,
      ready: 1,
      recovered: 1,
    });
    const now = await t.kube.core.readPersistentVolume({ name: victim.metadata?.name ?? "" });
    expect(now.metadata?.uid).not.toBe(victim.metadata?.uid);
    expect(ops.actions).toEqual([`recreated ${victim.metadata?.name}`]);
  }, 150_000);

  it("reports a timeout, not an error, when nothing can rebind a killed static volume", async () => {
    const { ns, volumeLabel } = await dbWorld();
    const m = await t.run(
      chaosConfig([
        {
          name: "volumes",
          kind: "PersistentVolume",
          schedule: "@every 2s",
          selector: { labelSelector: volumeLabel, includeNames: ["-data-0$"] },
          action: { stripFinalizers: true },
          recovery: { timeout: "6s" },
        },
      ]),
    );
    const end = await m.waitForLog((l) => l.msg === LOG.RECOVERY_ENDED, 60_000);
    expect(end.outcome).toBe("timeout");
    const metrics = await scrape(m.port);
    expect(
      metricSum(metrics, "chaos_monkey_recoveries_total", {
        target: "volumes",
        outcome: "timeout",
      }),
    ).toBe(1);
    expect(
      metricSum(metrics, "chaos_monkey_kills_total", { target: "volumes", result: "failed" }),
    ).toBe(0);
    expect(metricSum(metrics, "chaos_monkey_errors_total")).toBe(0);
    const claim = await t.kube.core.readNamespacedPersistentVolumeClaim({
      name: "data-db-0",
      namespace: ns,
    });
    expect(claim.status?.phase).toBe("Lost");
  }, 120_000);

  it("without stripFinalizers reports a claim in use as still Terminating and claims no kill", async () => {
    const { ns } = await dbWorld();
    const cfg = chaosConfig([
      {
        name: "claims",
        kind: "PersistentVolumeClaim",
        schedule: "@every 2s",
        selector: { namespaces: [ns], includeNames: ["^data-db-1$"] },
        action: { stripFinalizers: false, restartConsumers: false },
      },
    ]);
    const r = await t.once(cfg);
    expect(r.code, r.stderr).toBe(3);
    const [round] = r.rounds;
    expect(round?.victims).toMatchObject([
      { name: "data-db-1", result: "terminating", outcome: null },
    ]);
    expect(r.logs.some((l) => l.msg === LOG.KILL_ACCEPTED)).toBe(false);
    const claim = await t.kube.core.readNamespacedPersistentVolumeClaim({
      name: "data-db-1",
      namespace: ns,
    });
    expect(claim.metadata?.deletionTimestamp).toBeDefined();
    expect(claim.metadata?.finalizers).toEqual([PVC_PROTECTION]);
  }, 120_000);

  it("after a SIGKILL between delete and strip, the next monkey finishes the strip within 60 s and counts the recovery aborted", async () => {
    const { ns } = await dbWorld();
    // A real admission policy refuses the monkey's finalizer removal: the round dies between
    // its delete and its strip, as a crash would leave it.
    const policy = `e2e-no-strip-${ns}`;
    await blockFinalizerRemoval(policy, ns, t.id.username);
    const cfg = chaosConfig([
      {
        name: "claims",
        kind: "PersistentVolumeClaim",
        schedule: "@every 2s",
        selector: { namespaces: [ns], includeNames: ["^data-db-0$"] },
        action: { stripFinalizers: true, restartConsumers: false },
      },
    ]);
    const first = await t.run(cfg);
    await first.waitForLog((l) => l.msg === LOG.STRIP_FAILED, 30_000);
    first.proc.kill("SIGKILL");
    await first.exited;
    const stuck = await t.kube.core.readNamespacedPersistentVolumeClaim({
      name: "data-db-0",
      namespace: ns,
    });
    expect(stuck.metadata?.deletionTimestamp).toBeDefined();
    // What the next leader goes by is the journal in the monkey's namespace, not the claim.
    const journal = await t.kube.core.readNamespacedConfigMap({
      name: "chaos-monkey-journal",
      namespace: t.selfNs,
    });
    const entry = JSON.parse(journal.data?.[`victim.${stuck.metadata?.uid}`] ?? "{}") as {
      strip?: string[];
    };
    expect(entry.strip).toEqual([PVC_PROTECTION]);
    expect(
      Object.keys(stuck.metadata?.annotations ?? {}).filter((k) =>
        k.startsWith("chaos-monkey.io/"),
      ),
    ).toEqual([]);
    await unblock(policy);
    const restartedAt = Date.now();
    const gone = watchUntil(t.kube, {
      path: `/api/v1/namespaces/${ns}/persistentvolumeclaims`,
      query: { fieldSelector: "metadata.name=data-db-0" },
      until: (type, o) => type === "DELETED" && o.metadata?.uid === stuck.metadata?.uid,
      timeoutMs: 60_000,
    });
    const second = await t.run(cfg);
    await gone;
    expect(Date.now() - restartedAt).toBeLessThan(60_000);
    await second.waitForLog((l) => l.msg === LOG.INTERRUPTED_STRIP_FINISHED, 10_000);
    const metrics = await scrape(second.port);
    expect(
      metricSum(metrics, "chaos_monkey_recoveries_total", {
        target: "claims",
        kind: "PersistentVolumeClaim",
        outcome: "aborted",
      }),
    ).toBe(1);
  }, 180_000);

  it("never touches a volume outside the selector or opted out, even when its claim is a victim", async () => {
    const { ns, volumeLabel } = await dbWorld();
    const claims = (await t.kube.core.listNamespacedPersistentVolumeClaim({ namespace: ns })).items;
    const volumeOf = (claim: string) =>
      claims.find((c) => c.metadata?.name === claim)?.spec?.volumeName ?? "";
    const optedOut = volumeOf("data-db-0");
    const unselected = volumeOf("data-db-1");
    await t.kube.core.patchPersistentVolume({
      name: optedOut,
      body: [
        { op: "add", path: "/metadata/annotations", value: { "chaos-monkey.io/exclude": "true" } },
      ],
    });
    await t.kube.core.patchPersistentVolume({
      name: unselected,
      body: [{ op: "add", path: "/metadata/labels/chaos", value: "no" }],
    });
    const before = new Map<string, string>();
    for (const n of [optedOut, unselected])
      before.set(n, (await t.kube.core.readPersistentVolume({ name: n })).metadata?.uid ?? "");
    const cfg = chaosConfig(
      [
        {
          name: "claims",
          kind: "PersistentVolumeClaim",
          schedule: "@hourly",
          mode: "all",
          selector: { namespaces: [ns] },
          action: { stripFinalizers: true, restartConsumers: true },
          recovery: { timeout: "5s" }, // nothing rebinds the static volumes here
        },
        {
          name: "volumes",
          kind: "PersistentVolume",
          schedule: "@hourly",
          mode: "all",
          selector: { labelSelector: `${volumeLabel},chaos!=no` },
          action: { stripFinalizers: true },
        },
      ],
      { safety: { maxPerOwner: 10, requireHealthy: false } },
    );
    const r = await t.once(cfg, "--target", "volumes", "--target", "claims");
    expect(r.code, r.stderr).toBe(3); // the claims cannot rebind: a timeout, honestly reported
    const summary = r.rounds;
    // The volume round ran first and found nothing it may touch; the claim round killed both claims.
    expect(summary.find((s) => s.target === "volumes")?.victims).toEqual([]);
    expect(
      summary
        .find((s) => s.target === "claims")
        ?.victims.map((v) => v.name)
        .sort(),
    ).toEqual(["data-db-0", "data-db-1"]);
    for (const [name, uid] of before) {
      const pv = await t.kube.core.readPersistentVolume({ name });
      expect(pv.metadata?.uid).toBe(uid);
      expect(pv.metadata?.deletionTimestamp).toBeUndefined();
      expect(pv.metadata?.finalizers).toContain("kubernetes.io/pv-protection");
    }
  }, 180_000);
});

async function blockFinalizerRemoval(
  name: string,
  namespace: string,
  username: string,
): Promise<void> {
  const objects = k8s.KubernetesObjectApi.makeApiClient(t.kube.kc);
  await objects.create({
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: { name },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: [""],
            apiVersions: ["v1"],
            operations: ["UPDATE"],
            resources: ["persistentvolumeclaims"],
          },
        ],
      },
      matchConditions: [
        { name: "the-monkey", expression: `request.userInfo.username == '${username}'` },
      ],
      validations: [
        {
          expression:
            "!has(oldObject.metadata.finalizers) || (has(object.metadata.finalizers) && object.metadata.finalizers.size() >= oldObject.metadata.finalizers.size())",
          message: "e2e: finalizer removal blocked",
        },
      ],
    },
  } as k8s.KubernetesObject);
  await objects.create({
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name },
    spec: {
      policyName: name,
      validationActions: ["Deny"],
      matchResources: {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
      },
    },
  } as k8s.KubernetesObject);
  t.onCleanup(() => unblock(name));
  // Policies take effect asynchronously: wait until a dry-run of the blocked change is refused.
  for (let i = 0; i < 100; i++) {
    if (await refused(namespace)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the admission policy never took effect");
}

/** Whether the policy now refuses this identity's finalizer removal: a dry-run patch as the monkey. */
async function refused(namespace: string): Promise<boolean> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(t.id.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  try {
    await core.patchNamespacedPersistentVolumeClaim({
      name: "data-db-1",
      namespace,
      dryRun: "All",
      body: [
        { op: "test", path: "/metadata/finalizers/0", value: PVC_PROTECTION },
        { op: "remove", path: "/metadata/finalizers/0" },
      ],
    });
    return false;
  } catch (err) {
    const code = statusOf(err);
    if (code === 422 || code === 403) return true;
    throw err;
  }
}

async function unblock(name: string): Promise<void> {
  const objects = k8s.KubernetesObjectApi.makeApiClient(t.kube.kc);
  for (const kind of ["ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"])
    try {
      await objects.delete({
        apiVersion: "admissionregistration.k8s.io/v1",
        kind,
        metadata: { name },
      });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
}
