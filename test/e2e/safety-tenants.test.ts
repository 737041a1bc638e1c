// Safety against tenants (SPEC §7 threat model, invariants 1 and 3; issue 11 items 1, 2, 6, 8,
// 10, 12). Each test acts as a tenant would — with a ServiceAccount that has `edit` in its own
// namespace and nothing else — and judges the outcome from the API server's side: the objects'
// state and the audit log of the monkey's requests, never the monkey's own log.
import * as k8s from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { writesBy } from "../support/audit.js";
import type { Kube } from "../support/kube.js";
import {
  connect,
  createNamespace,
  deleteNamespace,
  deploymentReady,
  statusOf,
  watchUntil,
} from "../support/kube.js";
import {
  asIdentity,
  chaosConfig,
  httpStatus,
  metricSum,
  runMonkey,
  scrape,
  tokenIdentity,
  viaHttpProxy,
} from "../support/monkey.js";
import { claim, deployment, pod, staticVolume } from "../support/objects.js";
import { HttpProxy, upstreamOf } from "../support/http-proxy.js";
import { applyExamples, deleteExampleVolumes } from "../support/examples.js";
import { VolumeReconciler } from "../support/reconciler.js";
import { e2eSuite } from "../support/suite.js";
import { LOG } from "../../src/observe/messages.js";

const KEEP = "example.com/keep";
const PVC_PROTECTION = "kubernetes.io/pvc-protection";
/** Every annotation key the monkey has ever read from a victim (0.1 wrote them as crash markers). */
const FORGED = {
  "chaos-monkey.io/round": "claims-20261202T000000Z",
  "chaos-monkey.io/target": "claims",
  "chaos-monkey.io/strip-finalizers": `${PVC_PROTECTION},${KEEP}`,
};

// Each test makes the tenant namespaces it needs (tenantWorld).
const t = e2eSuite("e2e-safe", { workloads: false });

beforeAll(async () => {
  try {
    await t.kube.objects.create({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "e2e-static" },
      provisioner: "kubernetes.io/no-provisioner",
      reclaimPolicy: "Retain",
      volumeBindingMode: "Immediate",
    } as k8s.KubernetesObject);
  } catch (err) {
    if (statusOf(err) !== 409) throw err;
  }
});

/** A namespace of a tenant who may edit everything in it: the attacker of SPEC §7. */
async function tenantWorld(prefix: string): Promise<{ ns: string; tenant: Kube; user: string }> {
  const ns = await createNamespace(t.kube, prefix);
  t.onCleanup(async () => {
    await dropKeepFinalizers(ns);
    await deleteNamespace(t.kube, ns);
    await deleteExampleVolumes(t.kube, ns);
  });
  await t.kube.core.createNamespacedServiceAccount({
    namespace: ns,
    body: { metadata: { name: "tenant" } },
  });
  await t.kube.rbac.createNamespacedRoleBinding({
    namespace: ns,
    body: {
      metadata: { name: "tenant-edit" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
      subjects: [{ kind: "ServiceAccount", name: "tenant", namespace: ns }],
    },
  });
  const who = await tokenIdentity(t.kube, ns, "tenant");
  return { ns, tenant: connect(who.kubeconfig), user: who.username };
}

async function dropKeepFinalizers(ns: string): Promise<void> {
  const list = await t.kube.core.listNamespacedPersistentVolumeClaim({ namespace: ns });
  for (const c of list.items)
    if (c.metadata?.finalizers?.includes(KEEP))
      await t.kube.core
        .patchNamespacedPersistentVolumeClaim({
          name: c.metadata.name ?? "",
          namespace: ns,
          body: [{ op: "replace", path: "/metadata/finalizers", value: [] }],
        })
        .catch(() => undefined);
}

/** Claim ns/name Bound to its own static volume, with `finalizers` added. */
async function boundClaim(ns: string, name: string, finalizers: string[] = [], labels = {}) {
  const pv = `${ns}-${name}`;
  await t.kube.core.createPersistentVolume({ body: staticVolume(pv, ns, name) });
  await t.kube.core.createNamespacedPersistentVolumeClaim({
    namespace: ns,
    body: claim(ns, name, pv, { finalizers, labels }),
  });
  return watchUntil<k8s.V1PersistentVolumeClaim>(t.kube, {
    path: `/api/v1/namespaces/${ns}/persistentvolumeclaims`,
    query: { fieldSelector: `metadata.name=${name}` },
    until: (_t, c) => c.status?.phase === "Bound",
    timeoutMs: 30_000,
  });
}

async function readClaim(ns: string, name: string): Promise<k8s.V1PersistentVolumeClaim> {
  return t.kube.core.readNamespacedPersistentVolumeClaim({ name, namespace: ns });
}

/** The monkey's writes, as the API server recorded them, on objects of `namespace`. */
const monkeyWritesIn = (namespace: string) =>
  writesBy(t.auditLog, t.id.username).filter((e) => e.objectRef?.namespace === namespace);

/** The journal's data as the API server holds it ({} when there is none yet). */
async function journalData(): Promise<Record<string, string>> {
  try {
    const cm = await t.kube.core.readNamespacedConfigMap({
      name: "chaos-monkey-journal",
      namespace: t.selfNs,
    });
    return cm.data ?? {};
  } catch (err) {
    if (statusOf(err) === 404) return {};
    throw err;
  }
}

const victimKeys = (data: Record<string, string>) =>
  Object.keys(data).filter((k) => k.startsWith("victim."));

describe("safety against tenants", () => {
  it("forged crash markers on a claim its tenant deletes make the monkey strip nothing (invariant 3)", async () => {
    const { ns, tenant } = await tenantWorld("e2e-forge");
    await boundClaim(ns, "victim", [KEEP]);
    // The monkey follows this namespace's claims (a live volume target) but has no kill to make.
    const m = await t.run(
      chaosConfig([
        {
          name: "claims",
          kind: "PersistentVolumeClaim",
          schedule: "@every 1s",
          selector: { namespaces: [ns], includeNames: ["^nothing-matches$"] },
          action: { stripFinalizers: [PVC_PROTECTION, KEEP] },
        },
      ]),
    );
    await m.waitForLog((l) => l.msg === LOG.BECAME_LEADER);
    // The attack: every marker key the monkey ever read, naming a finalizer, then a delete.
    await tenant.core.patchNamespacedPersistentVolumeClaim({
      name: "victim",
      namespace: ns,
      body: [{ op: "add", path: "/metadata/annotations", value: FORGED }],
    });
    await tenant.core.deleteNamespacedPersistentVolumeClaim({ name: "victim", namespace: ns });
    const deletedAt = Date.now();
    // Ordering, not a timer: the monkey has seen the Terminating claim (its cache event) and run
    // three more rounds after it, each of which may sweep.
    await m.waitForLog(
      (l) => l.msg === LOG.ROUND_SKIPPED && Date.parse(String(l.time)) > deletedAt + 3000,
      30_000,
    );
    const after = await readClaim(ns, "victim");
    expect(after.metadata?.deletionTimestamp).toBeDefined();
    expect(after.metadata?.finalizers).toContain(KEEP);
    expect(
      monkeyWritesIn(ns).filter((e) => e.objectRef?.resource === "persistentvolumeclaims"),
    ).toEqual([]);
    const metrics = await scrape(m.port);
    expect(metricSum(metrics, "chaos_monkey_finalizers_stripped_total")).toBe(0);
    expect([...metrics.keys()].some((k) => k.includes(KEEP))).toBe(false);
  }, 120_000);

  it("a refused delete leaves no marker and no journal entry, so a later tenant delete is not finished (invariant 3)", async () => {
    const { ns, tenant } = await tenantWorld("e2e-refuse");
    await boundClaim(ns, "guarded", [KEEP], { guard: "deny-delete" });
    // An admission policy (as a tenant's platform team might have) refuses deleting the claim.
    const policy = `e2e-deny-${ns}`;
    await t.kube.objects.create({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: policy },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: {
          resourceRules: [
            {
              apiGroups: [""],
              apiVersions: ["v1"],
              operations: ["DELETE"],
              resources: ["persistentvolumeclaims"],
            },
          ],
        },
        validations: [{ expression: "false", message: "deleting this claim is not allowed" }],
      },
    } as k8s.KubernetesObject);
    const binding = {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: policy },
      spec: {
        policyName: policy,
        validationActions: ["Deny"],
        matchResources: {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
          objectSelector: { matchLabels: { guard: "deny-delete" } },
        },
      },
    } as k8s.KubernetesObject;
    await t.kube.objects.create(binding);
    t.onCleanup(async () => {
      await t.kube.objects.delete(binding).catch(() => undefined);
      await t.kube.objects
        .delete({
          apiVersion: "admissionregistration.k8s.io/v1",
          kind: "ValidatingAdmissionPolicy",
          metadata: { name: policy },
        })
        .catch(() => undefined);
    });
    const target = {
      name: "claims",
      kind: "PersistentVolumeClaim",
      schedule: "@every 1s",
      selector: { namespaces: [ns], includeNames: ["^guarded$"] },
      action: { stripFinalizers: [PVC_PROTECTION, KEEP], restartConsumers: false },
    };
    // The policy takes a moment to be enforced: until a tenant's own delete is refused, wait.
    await expect
      .poll(
        async () =>
          tenant.core
            .deleteNamespacedPersistentVolumeClaim({
              name: "guarded",
              namespace: ns,
              dryRun: "All",
            })
            .then(
              () => 0,
              (err: unknown) => statusOf(err) ?? -1,
            ),
        { timeout: 30_000, interval: 500 },
      )
      .not.toBe(0);
    const once = await t.once(chaosConfig([target]));
    expect(once.code, once.stderr).toBe(1);
    const [round] = once.rounds;
    expect(round?.victims).toMatchObject([{ name: "guarded", result: "failed" }]);
    // From the API server: nothing was written on the claim, and the journal kept nothing of it.
    const claimNow = await readClaim(ns, "guarded");
    expect(
      Object.keys(claimNow.metadata?.annotations ?? {}).filter((k) =>
        k.startsWith("chaos-monkey.io/"),
      ),
    ).toEqual([]);
    expect(victimKeys(await journalData())).toEqual([]);
    expect(monkeyWritesIn(ns).filter((e) => e.verb === "patch")).toEqual([]);
    // Later the policy goes and the tenant deletes the claim itself; a live monkey takes over.
    await t.kube.objects.delete(binding);
    await expect
      .poll(
        async () =>
          tenant.core
            .deleteNamespacedPersistentVolumeClaim({ name: "guarded", namespace: ns })
            .then(
              () => 0,
              (err: unknown) => statusOf(err) ?? -1,
            ),
        { timeout: 30_000, interval: 500 },
      )
      .toBe(0);
    const deletedAt = Date.now();
    const m = await t.run(chaosConfig([target]));
    await m.waitForLog((l) => l.msg === LOG.BECAME_LEADER, 30_000);
    await m.waitForLog(
      (l) => l.msg === LOG.ROUND_SKIPPED && Date.parse(String(l.time)) > deletedAt + 3000,
      30_000,
    );
    const after = await readClaim(ns, "guarded");
    expect(after.metadata?.deletionTimestamp).toBeDefined();
    expect(after.metadata?.finalizers).toContain(KEEP);
    expect(monkeyWritesIn(ns).filter((e) => e.verb === "patch")).toEqual([]);
  }, 150_000);

  it("never restarts an opted-out consumer: the claim it mounts is protected, and so is the volume behind an opted-out claim (invariant 1)", async () => {
    const { ns, tenant } = await tenantWorld("e2e-optout");
    await applyExamples(t.kube, ns, ["StorageClass", "PersistentVolume", "StatefulSet"]);
    await watchUntil<k8s.V1StatefulSet>(t.kube, {
      path: `/apis/apps/v1/namespaces/${ns}/statefulsets`,
      until: (_t, s) => (s.status?.readyReplicas ?? 0) >= 2,
      timeoutMs: 60_000,
    });
    // The tenant opts out pod db-0 (not its claim) and claim data-db-1 (not its volume).
    const optOut = [
      { op: "add", path: "/metadata/annotations", value: { "chaos-monkey.io/exclude": "true" } },
    ];
    await tenant.core.patchNamespacedPod({ name: "db-0", namespace: ns, body: optOut });
    await tenant.core.patchNamespacedPersistentVolumeClaim({
      name: "data-db-1",
      namespace: ns,
      body: optOut,
    });
    const db0 = await t.kube.core.readNamespacedPod({ name: "db-0", namespace: ns });
    const volume1 = (await readClaim(ns, "data-db-1")).spec?.volumeName ?? "";
    const r = await t.once(
      chaosConfig(
        [
          {
            name: "claims",
            kind: "PersistentVolumeClaim",
            schedule: "@hourly",
            selector: { namespaces: [ns], includeNames: ["^data-db-0$"] },
            action: { stripFinalizers: true, restartConsumers: true },
          },
          {
            name: "volumes",
            kind: "PersistentVolume",
            schedule: "@hourly",
            selector: { includeNames: [`^${volume1}$`] },
            action: { stripFinalizers: true, restartConsumers: true },
          },
        ],
        { safety: { maxKillsPerRound: 10 } },
      ),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.rounds.map((x) => [x.target, x.skipped, x.victims.length])).toEqual([
      ["claims", "no_candidates", 0],
      ["volumes", "no_candidates", 0],
    ]);
    // From the API server: no delete or eviction of anything, the opted-out pod untouched.
    expect(monkeyWritesIn(ns)).toEqual([]);
    expect(
      writesBy(t.auditLog, t.id.username).filter((e) => e.objectRef?.name === volume1),
    ).toEqual([]);
    expect(
      (await t.kube.core.readNamespacedPod({ name: "db-0", namespace: ns })).metadata?.uid,
    ).toBe(db0.metadata?.uid);
  }, 150_000);

  it("restarts a claim's consumers by eviction and counts them against maxKillsPerRound", async () => {
    const { ns } = await tenantWorld("e2e-consumers");
    await applyExamples(t.kube, ns, ["StorageClass", "PersistentVolume", "StatefulSet"]);
    await watchUntil<k8s.V1StatefulSet>(t.kube, {
      path: `/apis/apps/v1/namespaces/${ns}/statefulsets`,
      until: (_t, s) => (s.status?.readyReplicas ?? 0) >= 2,
      timeoutMs: 60_000,
    });
    // The operator that makes a Released static volume bindable again, so the claim recovers.
    const ops = new VolumeReconciler(t.kube, `e2e.chaos-monkey.io/namespace=${ns}`, {
      release: true,
      recreate: false,
    });
    await ops.start();
    t.onCleanup(() => ops.stop());
    const target = {
      name: "claims",
      kind: "PersistentVolumeClaim",
      schedule: "@hourly",
      selector: { namespaces: [ns], includeNames: ["^data-db-0$"] },
      action: { stripFinalizers: true, restartConsumers: true },
      recovery: { timeout: "60s" },
    };
    const once = (maxKillsPerRound: number) =>
      t.once(chaosConfig([target], { safety: { maxKillsPerRound } }));
    // The claim and its one consumer are two kills: a cap of 1 drops the claim.
    const capped = await once(1);
    expect(capped.code, capped.stderr).toBe(0);
    expect(capped.rounds[0]?.skipped).toBe("cap");
    expect(monkeyWritesIn(ns)).toEqual([]);
    const both = await once(2);
    expect(both.code, both.stderr).toBe(0);
    const [round] = both.rounds;
    expect(round?.victims).toMatchObject([
      { name: "data-db-0", result: "killed", consumers: [{ name: "db-0", result: "killed" }] },
    ]);
    const writes = monkeyWritesIn(ns).map(
      (e) =>
        `${e.verb} ${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ""} ${e.objectRef?.name}`,
    );
    expect(writes).toContain("create pods/eviction db-0");
    expect(writes.filter((w) => w.startsWith("delete pods"))).toEqual([]);
  }, 150_000);

  it("a catastrophic name regex cannot stall the monkey: names are matched in linear time", async () => {
    const { ns } = await tenantWorld("e2e-regex");
    // A name a tenant chose, and a pattern that backtracks exponentially on it in a backtracking engine.
    const name = `${"a".repeat(48)}-x`;
    await t.kube.core.createNamespacedPod({ namespace: ns, body: pod(ns, name) });
    await watchUntil<k8s.V1Pod>(t.kube, {
      path: `/api/v1/namespaces/${ns}/pods`,
      until: (_t, p) => p.status?.phase === "Running",
      timeoutMs: 30_000,
    });
    const m = await t.run(
      chaosConfig(
        [
          {
            name: "names",
            kind: "Pod",
            schedule: "@every 1s",
            selector: { namespaces: [ns], includeNames: ["^(a+)+$"], includeOrphans: true },
          },
        ],
        { dryRun: true },
      ),
    );
    // Three rounds, each matching the pattern against the name, and the HTTP server answering.
    for (let i = 0; i < 3; i++) {
      const seen = m.logs.filter((l) => l.msg === LOG.VICTIMS_SELECTED).length;
      await m.waitForLog(
        (l) =>
          l.msg === LOG.VICTIMS_SELECTED &&
          m.logs.filter((x) => x.msg === LOG.VICTIMS_SELECTED).length > seen,
        20_000,
      );
    }
    expect(await httpStatus(m.port, "/healthz")).toBe(200);
  }, 90_000);
});

describe("the monkey's own namespace and the system namespaces", () => {
  it("a live run out of a cluster must name its namespace (exit 2, before touching the cluster)", async () => {
    const cfg = chaosConfig([{ name: "web", kind: "Pod", schedule: "@hourly" }]);
    const r = await runMonkey(["once", "--config", cfg, "--kubeconfig", t.id.kubeconfig]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--namespace/);
    expect(
      writesBy(t.auditLog, t.id.username).filter((e) => e.objectRef?.namespace === "default"),
    ).toEqual([]);
  });

  it("a custom excludedNamespaces adds to the system namespaces instead of replacing them", async () => {
    const name = `e2e-sys-${Date.now()}`;
    await t.kube.core.createNamespacedPod({
      namespace: "kube-public",
      body: pod("kube-public", name),
    });
    t.onCleanup(() =>
      t.kube.core
        .deleteNamespacedPod({ name, namespace: "kube-public", gracePeriodSeconds: 0 })
        .then(() => undefined),
    );
    await watchUntil<k8s.V1Pod>(t.kube, {
      path: "/api/v1/namespaces/kube-public/pods",
      query: { fieldSelector: `metadata.name=${name}` },
      until: (_t, p) => p.status?.phase === "Running",
      timeoutMs: 30_000,
    });
    const target = {
      name: "sys",
      kind: "Pod",
      schedule: "@hourly",
      selector: { namespaces: ["kube-public"], includeOrphans: true },
    };
    const plan = (safety: Record<string, unknown>) =>
      runMonkey([
        "plan",
        "--config",
        chaosConfig([target], { safety }),
        ...asIdentity(t.id, t.selfNs),
        "--count",
        "1",
      ]);
    const custom = await plan({ excludedNamespaces: ["monitoring"] });
    expect(custom.code, custom.stderr).toBe(0);
    expect(custom.stdout).toMatch(/eligible now: 0 \(excluded: excluded_namespace 1\)/);
    const lifted = await plan({ excludedNamespaces: ["monitoring"], allowSystemNamespaces: true });
    expect(lifted.stdout).toMatch(/eligible now: 1\b/);
  });
});

describe("the picture a kill rests on", () => {
  it("an opt-out a tenant adds after the monkey's cache saw the pod is honoured: the kill re-reads it (issue 11 item 10)", async () => {
    const { ns, tenant } = await tenantWorld("e2e-stale");
    await t.kube.apps.createNamespacedDeployment({
      namespace: ns,
      body: deployment(ns, "web", { replicas: 2 }),
    });
    await deploymentReady(t.kube, ns, "web", 2);
    const cluster = t.kube.kc.getCurrentCluster();
    if (!cluster) throw new Error("no cluster");
    const proxy = await HttpProxy.start(upstreamOf(cluster));
    t.onCleanup(() => proxy.close());
    const m = await t.run(
      chaosConfig([
        {
          name: "web",
          kind: "Pod",
          schedule: "@every 2s",
          // Rounds go on while a (wrong) kill's recovery could not be seen on the frozen watch.
          concurrency: "Allow",
          selector: { namespaces: [ns], labelSelector: "app=web" },
          recovery: { timeout: "30s" },
        },
      ]),
      viaHttpProxy(t.id, proxy),
    );
    await m.waitForLog((l) => l.msg === LOG.CONFIG_LOADED, 30_000);
    // The monkey's pod watch goes quiet (connection open, cache synced, no events): its picture
    // is frozen with the pods not opted out. The tenant then opts every one of them out.
    proxy.freezeStreams(
      ({ path, query }) => path === `/api/v1/namespaces/${ns}/pods` && query.includes("watch"),
    );
    const optedAt = Date.now();
    for (const p of (await tenant.core.listNamespacedPod({ namespace: ns })).items)
      await tenant.core.patchNamespacedPod({
        name: p.metadata?.name ?? "",
        namespace: ns,
        body: [
          {
            op: "add",
            path: "/metadata/annotations",
            value: { "chaos-monkey.io/exclude": "true" },
          },
        ],
      });
    // Three rounds chose from the stale cache after the opt-out...
    for (let i = 0; i < 3; i++) {
      const seen = m.logs.filter((l) => l.msg === LOG.VICTIMS_SELECTED).length;
      await m.waitForLog(
        (l) =>
          l.msg === LOG.VICTIMS_SELECTED &&
          Date.parse(String(l.time)) > optedAt &&
          m.logs.filter((x) => x.msg === LOG.VICTIMS_SELECTED).length > seen,
        20_000,
      );
    }
    // ...and the API server saw no eviction or delete of any of those pods.
    expect(monkeyWritesIn(ns).filter((e) => e.objectRef?.resource === "pods")).toEqual([]);
    expect(m.logs.filter((l) => l.msg === LOG.VICTIM_NO_LONGER_ELIGIBLE).length).toBeGreaterThan(0);
  }, 120_000);
});
