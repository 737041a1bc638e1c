// SPEC §3 and §6 recovery promises on the real control plane (issue 15): StatefulSet and
// DaemonSet victims recover, a workload deleted mid-recovery ends it `gone`, and a timeout is a
// ChaosNotRecovered Event, each judged from the API server's side.
import type * as k8s from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { evictionsBy } from "../support/audit.js";
import { deploymentReady, isPodReady, watchUntil } from "../support/kube.js";
import { asIdentity, chaosConfig, onceResultOf, startMonkey } from "../support/monkey.js";
import { daemonSet, deployment, statefulSet } from "../support/objects.js";
import { e2eSuite } from "../support/suite.js";

const t = e2eSuite("e2e-prec");

const evicted = (): string[] =>
  evictionsBy(t.auditLog, t.id.username).filter((k) => k.startsWith(`${t.ns}/`));

const podTarget = (name: string, app: string, more: Record<string, unknown> = {}) => ({
  name,
  kind: "Pod",
  schedule: "@hourly",
  selector: { namespaces: [t.ns], labelSelector: `app=${app}` },
  recovery: { timeout: "60s" },
  ...more,
});

async function readyPods(labelSelector: string, n: number): Promise<k8s.V1Pod[]> {
  let ready: k8s.V1Pod[] = [];
  await expect
    .poll(
      async () => {
        const all = (await t.kube.core.listNamespacedPod({ namespace: t.ns, labelSelector })).items;
        ready = all.filter((p) => isPodReady(p) && !p.metadata?.deletionTimestamp);
        return ready.length === n && all.length === n;
      },
      { timeout: 60_000, interval: 250 },
    )
    .toBe(true);
  return ready;
}

describe("recovery of other workloads (SPEC §3)", () => {
  it("a StatefulSet pod and a DaemonSet pod (one per KWOK node) are evicted and recover: a new Ready pod of the same workload", async () => {
    const nodes = (await t.kube.core.listNode()).items.length;
    await t.kube.apps.createNamespacedStatefulSet({
      namespace: t.ns,
      body: statefulSet(t.ns, "sts", { replicas: 2 }),
    });
    await t.kube.apps.createNamespacedDaemonSet({ namespace: t.ns, body: daemonSet(t.ns, "ds") });
    const stsBefore = await readyPods("app=sts", 2);
    const dsBefore = await readyPods("app=ds", nodes);
    const before = evicted().length;
    const r = await t.once(chaosConfig([podTarget("sts", "sts"), podTarget("ds", "ds")]));
    expect(r.code, r.stderr).toBe(0);
    const victims = r.rounds.flatMap((x) => x.victims);
    expect(victims.map((v) => v.outcome)).toEqual(["recovered", "recovered"]);
    await expect
      .poll(() => evicted().slice(before).sort(), { timeout: 10_000 })
      .toEqual(victims.map((v) => `${v.namespace}/${v.name}`).sort());
    // A StatefulSet pod comes back under its own name with a new UID; a DaemonSet pod under a
    // new name on the same node.
    const sts = victims.find((v) => v.name.startsWith("sts-"));
    const stsNow = await readyPods("app=sts", 2);
    const again = stsNow.find((p) => p.metadata?.name === sts?.name);
    const oldUid = stsBefore.find((p) => p.metadata?.name === sts?.name)?.metadata?.uid;
    expect(oldUid).toBeDefined();
    expect(again?.metadata?.uid).not.toBe(oldUid);
    const ds = victims.find((v) => v.name.startsWith("ds-"));
    const dsNow = await readyPods("app=ds", nodes);
    const node = dsBefore.find((p) => p.metadata?.name === ds?.name)?.spec?.nodeName;
    const replacement = dsNow.filter((p) => p.spec?.nodeName === node);
    expect(replacement).toHaveLength(1);
    expect(replacement[0]?.metadata?.name).not.toBe(ds?.name);
  }, 180_000);

  it("outcome gone: the Deployment deleted while its replacement waits 30 s to be Ready ends the recovery at once", async () => {
    await t.kube.apps.createNamespacedDeployment({
      namespace: t.ns,
      body: deployment(t.ns, "doomed", {
        replicas: 1,
        annotations: { "kwok.chaos-monkey.io/ready-delay": "30s" },
      }),
    });
    await deploymentReady(t.kube, t.ns, "doomed", 1);
    const before = evicted().length;
    const started = Date.now();
    const m = startMonkey([
      "once",
      "--config",
      chaosConfig([podTarget("doomed", "doomed")]),
      ...asIdentity(t.id, t.selfNs),
      "--output",
      "json",
    ]);
    // The kill, seen from the API server: then the workload goes.
    await expect.poll(() => evicted().length - before, { timeout: 60_000 }).toBe(1);
    await t.kube.apps.deleteNamespacedDeployment({ name: "doomed", namespace: t.ns });
    const code = await m.exited;
    const elapsed = Date.now() - started;
    const [round] = onceResultOf(m.stdout.join("\n"));
    expect(round?.victims[0]?.outcome, m.stderr.join("\n")).toBe("gone");
    expect([0, 3]).toContain(code);
    // The replacement would be Ready only 30 s after it was created: ending well before that
    // (25 s, generous for a 2-core machine) shows the deletion, not readiness, ended it.
    expect(elapsed).toBeLessThan(25_000);
  }, 120_000);

  it("a timeout is a ChaosNotRecovered Warning on the Deployment naming the round", async () => {
    await t.kube.apps.createNamespacedDeployment({
      namespace: t.ns,
      body: deployment(t.ns, "late", {
        replicas: 1,
        annotations: { "kwok.chaos-monkey.io/ready-delay": "30s" },
      }),
    });
    await deploymentReady(t.kube, t.ns, "late", 1);
    const r = await t.once(
      chaosConfig([podTarget("late", "late", { recovery: { timeout: "3s" } })]),
    );
    expect(r.code, r.stderr).toBe(3);
    const [round] = r.rounds;
    expect(round?.victims[0]?.outcome).toBe("timeout");
    const seen = await watchUntil<k8s.EventsV1Event>(t.kube, {
      path: `/apis/events.k8s.io/v1/namespaces/${t.ns}/events`,
      until: (_t, e) =>
        e.reason === "ChaosNotRecovered" && e.note?.includes(`round=${round?.round}`) === true,
      timeoutMs: 15_000,
    });
    expect(seen.object.type).toBe("Warning");
    expect(seen.object.regarding).toMatchObject({ kind: "Deployment", name: "late" });
  }, 120_000);
});
