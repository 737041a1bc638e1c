// Dry-run writes nothing (SPEC §7.2), for what the other dry-run tests leave out: `plan`, a volume
// target that would strip finalizers, and the finisher facing a journal entry a crashed live run
// left — each checked against the audit log, after a sentinel write shows the log is complete.
import type * as k8s from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { requestsBy, writesBy } from "../support/audit.js";
import { connect, statusOf, watchUntil } from "../support/kube.js";
import { asIdentity, chaosConfig, runMonkey, tokenIdentity } from "../support/monkey.js";
import { claim, staticVolume } from "../support/objects.js";
import { e2eSuite } from "../support/suite.js";
import { LOG } from "../../src/observe/messages.js";

const t = e2eSuite("e2e-dry");
const KEEP = "example.com/keep";
const PVC_PROTECTION = "kubernetes.io/pvc-protection";

/** A write by another identity, awaited in the audit log: everything before it is logged. */
async function sentinel(): Promise<void> {
  await t.kube.core
    .createNamespacedServiceAccount({
      namespace: t.selfNs,
      body: { metadata: { name: "sentinel" } },
    })
    .catch((err: unknown) => {
      if (statusOf(err) !== 409) throw err;
    });
  const who = await tokenIdentity(t.kube, t.selfNs, "sentinel");
  const before = requestsBy(t.auditLog, who.username).length;
  await connect(who.kubeconfig)
    .core.listNamespacedPod({ namespace: t.selfNs })
    .catch(() => undefined); // refused or not, the request is logged
  await expect
    .poll(() => requestsBy(t.auditLog, who.username).length, { timeout: 15_000 })
    .toBeGreaterThan(before);
}

async function boundClaim(
  name: string,
  finalizers: string[] = [],
): Promise<k8s.V1PersistentVolumeClaim> {
  const pv = `${t.ns}-${name}`;
  await t.kube.core.createPersistentVolume({ body: staticVolume(pv, t.ns, name) });
  t.onCleanup(() =>
    t.kube.core.deletePersistentVolume({ name: pv }).then(
      () => undefined,
      () => undefined,
    ),
  );
  await t.kube.core.createNamespacedPersistentVolumeClaim({
    namespace: t.ns,
    body: claim(t.ns, name, pv, { finalizers }),
  });
  return (
    await watchUntil<k8s.V1PersistentVolumeClaim>(t.kube, {
      path: `/api/v1/namespaces/${t.ns}/persistentvolumeclaims`,
      query: { fieldSelector: `metadata.name=${name}` },
      until: (_type, c) => c.status?.phase === "Bound",
      timeoutMs: 30_000,
    })
  ).object;
}

const claimTarget = (name: string) => ({
  name: "claims",
  kind: "PersistentVolumeClaim",
  schedule: "@every 1s",
  selector: { namespaces: [t.ns], includeNames: [`^${name}$`] },
  action: { stripFinalizers: [PVC_PROTECTION, KEEP], restartConsumers: false },
});

describe("dry-run writes nothing", () => {
  it("plan, and once --dry-run of a volume target that would strip finalizers", async () => {
    const before = await boundClaim("data-plan");
    const cfg = chaosConfig([claimTarget("data-plan")]);
    const plan = await runMonkey([
      "plan",
      "--config",
      cfg,
      ...asIdentity(t.id, t.selfNs),
      "--seed",
      "x",
      "--count",
      "1",
    ]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`victims with seed "x": ${t.ns}/data-plan`);
    const once = await t.once(cfg, "--dry-run");
    expect(once.code, once.stderr).toBe(0);
    expect(once.rounds[0]?.victims).toMatchObject([{ result: "dry_run" }]);
    await sentinel();
    expect(writesBy(t.auditLog, t.id.username)).toEqual([]);
    const after = await t.kube.core.readNamespacedPersistentVolumeClaim({
      name: "data-plan",
      namespace: t.ns,
    });
    expect(after.metadata?.uid).toBe(before.metadata?.uid);
    expect(after.metadata?.deletionTimestamp).toBeUndefined();
  }, 120_000);

  it("the finisher, facing a journal entry a crashed live run left, strips nothing in dry-run", async () => {
    const c = await boundClaim("data-crash", [KEEP]);
    // What a live run writes before its delete, then the delete it sent before it died.
    const entry = {
      uid: c.metadata?.uid,
      kind: "PersistentVolumeClaim",
      namespace: t.ns,
      name: "data-crash",
      round: "claims-20261202T000000Z",
      target: "claims",
      strip: [PVC_PROTECTION, KEEP],
      atMs: Date.now(),
    };
    await t.kube.core.createNamespacedConfigMap({
      namespace: t.selfNs,
      body: {
        metadata: { name: "chaos-monkey-journal" },
        data: { [`victim.${entry.uid}`]: JSON.stringify(entry) },
      },
    });
    await t.kube.core.deleteNamespacedPersistentVolumeClaim({
      name: "data-crash",
      namespace: t.ns,
    });
    t.onCleanup(() =>
      t.kube.core
        .patchNamespacedPersistentVolumeClaim({
          name: "data-crash",
          namespace: t.ns,
          body: [{ op: "replace", path: "/metadata/finalizers", value: [] }],
        })
        .then(
          () => undefined,
          () => undefined,
        ),
    );
    const m = await t.run(chaosConfig([claimTarget("nothing-matches")], { dryRun: true }));
    // Several rounds after start-up, each of which could have swept the journal if live.
    for (let i = 0; i < 3; i++) {
      const seen = m.logs.filter((l) => l.msg === LOG.ROUND_SKIPPED).length;
      await m.waitForLog(
        (l) =>
          l.msg === LOG.ROUND_SKIPPED &&
          m.logs.filter((x) => x.msg === LOG.ROUND_SKIPPED).length > seen,
        20_000,
      );
    }
    await sentinel();
    expect(writesBy(t.auditLog, t.id.username)).toEqual([]);
    const now = await t.kube.core.readNamespacedPersistentVolumeClaim({
      name: "data-crash",
      namespace: t.ns,
    });
    expect(now.metadata?.finalizers).toContain(KEEP);
  }, 120_000);
});
