// The watch cache against the real API server: list + watch, server-side selectors, and restart
// after an error that client-node's own informer would stop on (a 403 here).
import * as k8s from "@kubernetes/client-node";
import seedrandom from "seedrandom";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { systemClock } from "../../src/clock.js";
import { Informer } from "../../src/kube/informer.js";
import type { InformerEvent } from "../../src/kube/informer.js";
import type { Kube } from "../support/kube.js";
import { connect, createNamespace, deleteNamespace } from "../support/kube.js";

let kube: Kube;
let ns: string;

beforeAll(async () => {
  kube = connect(inject("kubeconfig"));
  ns = await createNamespace(kube, "e2e-informer");
});
afterAll(async () => deleteNamespace(kube, ns));

const cm = (name: string, labels: Record<string, string>) => ({
  metadata: { name, namespace: ns, labels },
  data: { v: "1" },
});

function until<T>(
  events: InformerEvent<T>[],
  pred: (e: InformerEvent<T>) => boolean,
): Promise<InformerEvent<T>> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const hit = events.find(pred);
      if (hit) resolve(hit);
      else if (Date.now() - started > 20_000) reject(new Error("event did not arrive"));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

describe("Informer", () => {
  it("lists, then follows adds, updates and deletes that match its label selector", async () => {
    await kube.core.createNamespacedConfigMap({ namespace: ns, body: cm("a", { app: "x" }) });
    await kube.core.createNamespacedConfigMap({ namespace: ns, body: cm("skip", { app: "y" }) });
    const inf = new Informer<k8s.V1ConfigMap>({
      kc: kube.kc,
      path: `/api/v1/namespaces/${ns}/configmaps`,
      labelSelector: "app=x",
      clock: systemClock,
      rng: seedrandom("t"),
      pageSize: 1, // exercise pagination
    });
    const events: InformerEvent<k8s.V1ConfigMap>[] = [];
    inf.on((e) => events.push(e));
    inf.start();
    try {
      await inf.waitForSync();
      expect([...inf.list()].map((o) => o.metadata?.name)).toEqual(["a"]);
      await kube.core.createNamespacedConfigMap({ namespace: ns, body: cm("b", { app: "x" }) });
      await until(events, (e) => e.type === "add" && e.object.metadata?.name === "b");
      await kube.core.patchNamespacedConfigMap({
        name: "b",
        namespace: ns,
        body: [{ op: "replace", path: "/data/v", value: "2" }],
      });
      await until(events, (e) => e.type === "update" && e.object.data?.v === "2");
      await kube.core.deleteNamespacedConfigMap({ name: "a", namespace: ns });
      await until(events, (e) => e.type === "delete" && e.object.metadata?.name === "a");
      expect(inf.get(ns, "a")).toBeUndefined();
      expect(inf.get(ns, "skip")).toBeUndefined();
      expect(events.some((e) => e.object.metadata?.name === "skip")).toBe(false);
    } finally {
      await inf.stop();
    }
  });

  it("keeps retrying with backoff after a 403 and syncs once access is granted", async () => {
    await kube.core.createNamespacedServiceAccount({
      namespace: ns,
      body: { metadata: { name: "late" } },
    });
    const token = await kube.core.createNamespacedServiceAccountToken({
      name: "late",
      namespace: ns,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ ...kube.kc.getCurrentCluster(), name: "c" } as k8s.Cluster],
      users: [{ name: "late", token: token.status?.token ?? "" }],
      contexts: [{ name: "c", cluster: "c", user: "late" }],
      currentContext: "c",
    });
    const failures: number[] = [];
    const inf = new Informer<k8s.V1ConfigMap>({
      kc,
      path: `/api/v1/namespaces/${ns}/configmaps`,
      clock: systemClock,
      rng: seedrandom("t2"),
      onError: (err, attempt) =>
        failures.push((err as { statusCode?: number }).statusCode ?? 0, attempt),
    });
    inf.start();
    try {
      await new Promise((r) => setTimeout(r, 2500));
      expect(inf.synced).toBe(false);
      // 500 ms, then 1 s, then 2 s ceilings (half to full, jittered): 2-4 attempts in 2.5 s.
      expect(failures.filter((_, i) => i % 2 === 0).every((c) => c === 403)).toBe(true);
      const attempts = failures.length / 2;
      expect(attempts).toBeGreaterThanOrEqual(2);
      expect(attempts).toBeLessThanOrEqual(4);
      await kube.rbac.createNamespacedRole({
        namespace: ns,
        body: {
          metadata: { name: "read-cm" },
          rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["list", "watch"] }],
        },
      });
      await kube.rbac.createNamespacedRoleBinding({
        namespace: ns,
        body: {
          metadata: { name: "read-cm" },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read-cm" },
          subjects: [{ kind: "ServiceAccount", name: "late", namespace: ns }],
        },
      });
      await inf.waitForSync();
      expect(inf.synced).toBe(true);
    } finally {
      await inf.stop();
    }
  });
});
