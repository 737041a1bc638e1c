// The watch cache against the real API server: the streaming list (one watch with
// sendInitialEvents, synced at its bookmark), server-side selectors, restart after an error
// that client-node's own informer would stop on (a 403), and the paginated LIST fallback.
//
// How the server is made to refuse streaming lists: restarting the shared test API server with
// --feature-gates=WatchList=false would disturb every other test file on it, so the cache goes
// through a loopback HTTPS proxy (test/support/http-proxy.ts) that answers its sendInitialEvents
// watches with the 422 a gate-off server sends; everything else reaches the real API server.
// The same proxy, behind a TCP proxy that cuts connections, makes the outage: the resumed
// watch is answered with the real server's own 410 for an expired version.
import * as k8s from "@kubernetes/client-node";
import seedrandom from "seedrandom";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import { loadKubeConfig } from "../../src/kube/client.js";
import { apiUrl, watchJson } from "../../src/kube/http.js";
import { Informer } from "../../src/kube/informer.js";
import type { InformerEvent } from "../../src/kube/informer.js";
import { ApiServer } from "../support/apiserver.js";
import { HttpProxy, upstreamOf } from "../support/http-proxy.js";
import type { ProxiedRequest, SeenRequest } from "../support/http-proxy.js";
import { tokenIdentity, viaHttpProxy } from "../support/monkey.js";
import { TcpProxy } from "../support/proxy.js";
import { e2eSuite } from "../support/suite.js";

const t = e2eSuite("e2e-informer", { monkey: false });

const cm = (name: string, labels: Record<string, string>) => ({
  metadata: { name, namespace: t.ns, labels },
  data: { v: "1" },
});

const names = (inf: Informer<k8s.V1ConfigMap>) =>
  [...inf.list()].map((o) => o.metadata?.name ?? "").sort();

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
  it("streams its initial state, then follows adds, updates and deletes that match its label selector", async () => {
    await t.kube.core.createNamespacedConfigMap({ namespace: t.ns, body: cm("a", { app: "x" }) });
    await t.kube.core.createNamespacedConfigMap({
      namespace: t.ns,
      body: cm("skip", { app: "y" }),
    });
    const inf = new Informer<k8s.V1ConfigMap>({
      kc: t.kube.kc,
      path: `/api/v1/namespaces/${t.ns}/configmaps`,
      labelSelector: "app=x",
      clock: systemClock,
      rng: seedrandom("t"),
    });
    const events: InformerEvent<k8s.V1ConfigMap>[] = [];
    inf.on((e) => events.push(e));
    inf.start();
    try {
      await inf.waitForSync();
      expect(inf.relists).toEqual({ streamed: 1, paged: 0 });
      expect(names(inf)).toEqual(["a"]);
      await t.kube.core.createNamespacedConfigMap({ namespace: t.ns, body: cm("b", { app: "x" }) });
      await until(events, (e) => e.type === "add" && e.object.metadata?.name === "b");
      await t.kube.core.patchNamespacedConfigMap({
        name: "b",
        namespace: t.ns,
        body: [{ op: "replace", path: "/data/v", value: "2" }],
      });
      await until(events, (e) => e.type === "update" && e.object.data?.v === "2");
      await t.kube.core.deleteNamespacedConfigMap({ name: "a", namespace: t.ns });
      await until(events, (e) => e.type === "delete" && e.object.metadata?.name === "a");
      expect(inf.get(t.ns, "a")).toBeUndefined();
      expect(inf.get(t.ns, "skip")).toBeUndefined();
      expect(events.some((e) => e.object.metadata?.name === "skip")).toBe(false);
    } finally {
      await inf.stop();
    }
  });

  it("keeps retrying with backoff after a 403 and syncs once access is granted", async () => {
    await t.kube.core.createNamespacedServiceAccount({
      namespace: t.ns,
      body: { metadata: { name: "late" } },
    });
    const token = await t.kube.core.createNamespacedServiceAccountToken({
      name: "late",
      namespace: t.ns,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ ...t.kube.kc.getCurrentCluster(), name: "c" } as k8s.Cluster],
      users: [{ name: "late", token: token.status?.token ?? "" }],
      contexts: [{ name: "c", cluster: "c", user: "late" }],
      currentContext: "c",
    });
    const failures: number[] = [];
    const inf = new Informer<k8s.V1ConfigMap>({
      kc,
      path: `/api/v1/namespaces/${t.ns}/configmaps`,
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
      // (An RBAC 403 is not taken for a server refusing streaming lists: no LIST follows it.)
      expect(failures.filter((_, i) => i % 2 === 0).every((c) => c === 403)).toBe(true);
      const attempts = failures.length / 2;
      expect(attempts).toBeGreaterThanOrEqual(2);
      expect(attempts).toBeLessThanOrEqual(4);
      await t.kube.rbac.createNamespacedRole({
        namespace: t.ns,
        body: {
          metadata: { name: "read-cm" },
          rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["list", "watch"] }],
        },
      });
      await t.kube.rbac.createNamespacedRoleBinding({
        namespace: t.ns,
        body: {
          metadata: { name: "read-cm" },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read-cm" },
          subjects: [{ kind: "ServiceAccount", name: "late", namespace: t.ns }],
        },
      });
      await inf.waitForSync();
      expect(inf.synced).toBe(true);
    } finally {
      await inf.stop();
    }
  });
});

/**
 * What kube-apiserver v1.36 answers a sendInitialEvents watch with the WatchList gate off:
 * ValidateListOptions (k8s.io/apimachinery/pkg/apis/meta/internalversion/validation) refuses
 * the field and the handler wraps it as 422 Invalid (k8s.io/apiserver/.../handlers/get.go).
 */
const WATCHLIST_OFF = JSON.stringify({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message:
    'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled',
  reason: "Invalid",
  details: {
    group: "meta.k8s.io",
    kind: "ListOptions",
    causes: [
      {
        reason: "FieldValueForbidden",
        message:
          "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled",
        field: "sendInitialEvents",
      },
    ],
  },
  code: 422,
});

describe("Informer through a loopback proxy, as a ServiceAccount", () => {
  let proxy: HttpProxy;
  let tcp: TcpProxy;
  let kc: k8s.KubeConfig;
  let path: string;
  const params = (r: ProxiedRequest) => new URLSearchParams(r.query);
  const ours = (r: ProxiedRequest) => r.path === path;
  const streaming = (r: ProxiedRequest) => ours(r) && params(r).get("sendInitialEvents") === "true";
  const requestsSince = (from: number, set: string): SeenRequest[] =>
    proxy.seen
      .slice(from)
      .filter((r) => ours(r) && params(r).get("labelSelector") === `set=${set}`);

  beforeAll(async () => {
    path = `/api/v1/namespaces/${t.ns}/configmaps`;
    await t.kube.core.createNamespacedServiceAccount({
      namespace: t.ns,
      body: { metadata: { name: "reader" } },
    });
    await t.kube.rbac.createNamespacedRole({
      namespace: t.ns,
      body: {
        metadata: { name: "reader" },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["list", "watch"] }],
      },
    });
    await t.kube.rbac.createNamespacedRoleBinding({
      namespace: t.ns,
      body: {
        metadata: { name: "reader" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "reader" },
        subjects: [{ kind: "ServiceAccount", name: "reader", namespace: t.ns }],
      },
    });
    const cluster = t.kube.kc.getCurrentCluster();
    if (!cluster) throw new Error("no cluster");
    proxy = await HttpProxy.start(upstreamOf(cluster));
    // The cache's connections pass a TCP proxy first, which can cut them all at once.
    tcp = await TcpProxy.start(proxy.url);
    const id = await tokenIdentity(t.kube, t.ns, "reader");
    // The product's own client setup (one shared connection pool, HTTP/2 where offered).
    kc = loadKubeConfig({
      kubeconfig: viaHttpProxy(id, { url: tcp.url, caData: proxy.caData }).kubeconfig,
      inCluster: false,
    });
  });
  afterAll(async () => {
    await tcp.close();
    await proxy.close();
  });

  async function createSet(set: string, n: number): Promise<void> {
    for (let i = 0; i < n; i++)
      await t.kube.core.createNamespacedConfigMap({
        namespace: t.ns,
        body: cm(`${set}-${String(i).padStart(2, "0")}`, { set }),
      });
  }

  function informer(set: string, extra: { pageSize?: number; onError?: (e: unknown) => void }) {
    const inf = new Informer<k8s.V1ConfigMap>({
      kc,
      path,
      labelSelector: `set=${set}`,
      clock: systemClock,
      rng: seedrandom(set),
      ...extra,
    });
    const events: InformerEvent<k8s.V1ConfigMap>[] = [];
    inf.on((e) => events.push(e));
    return { inf, events };
  }

  it("fills from one streaming watch: no LIST is ever made", async () => {
    await createSet("stream", 25);
    const from = proxy.seen.length;
    const { inf, events } = informer("stream", {});
    inf.start();
    try {
      await inf.waitForSync();
      expect(inf.size).toBe(25);
      expect(inf.relists).toEqual({ streamed: 1, paged: 0 });
      await t.kube.core.createNamespacedConfigMap({
        namespace: t.ns,
        body: cm("stream-new", { set: "stream" }),
      });
      await until(events, (e) => e.type === "add" && e.object.metadata?.name === "stream-new");
      const reqs = requestsSince(from, "stream");
      expect(reqs).toHaveLength(1); // the list and the watch are one request
      const q = params(reqs[0] as SeenRequest);
      expect(Object.fromEntries(q)).toMatchObject({
        watch: "true",
        sendInitialEvents: "true",
        resourceVersionMatch: "NotOlderThan",
        allowWatchBookmarks: "true",
      });
      expect(q.has("resourceVersion")).toBe(false); // "" = the current state, read consistently
      expect(reqs[0]?.status).toBe(200);
    } finally {
      await inf.stop();
    }
  });

  it("falls back to a paginated LIST when the server refuses streaming lists (422, WatchList gate off)", async () => {
    await createSet("paged", 25);
    const refuse = proxy.answer(streaming, 422, WATCHLIST_OFF);
    const errors: unknown[] = [];
    const from = proxy.seen.length;
    const { inf, events } = informer("paged", { pageSize: 10, onError: (e) => errors.push(e) });
    inf.start();
    try {
      await inf.waitForSync();
      expect(inf.size).toBe(25);
      expect(inf.relists).toEqual({ streamed: 0, paged: 1 });
      expect(errors).toEqual([]); // a refusal is expected of some servers: not an error
      await t.kube.core.patchNamespacedConfigMap({
        name: "paged-03",
        namespace: t.ns,
        body: [{ op: "replace", path: "/data/v", value: "2" }],
      });
      await until(events, (e) => e.type === "update" && e.object.data?.v === "2");
      const reqs = requestsSince(from, "paged").map((r) => ({ q: params(r), r }));
      // The refused streaming watch, three bounded pages, then a watch from the list's version.
      expect(reqs.map(({ q, r }) => [q.get("watch"), q.get("limit"), r.status])).toEqual([
        ["true", null, 422],
        [null, "10", 200],
        [null, "10", 200],
        [null, "10", 200],
        ["true", null, 200],
      ]);
      expect(reqs[1]?.q.has("continue")).toBe(false);
      expect(reqs[2]?.q.get("continue")).toBeTruthy();
      expect(reqs[4]?.q.get("resourceVersion")).toMatch(/^\d+$/);
      expect(reqs[4]?.q.has("sendInitialEvents")).toBe(false);
    } finally {
      refuse();
      await inf.stop();
    }
  });

  it("after an outage whose version is gone (410), relists by streaming and sees what changed meanwhile", async () => {
    await createSet("outage", 3);
    // The real API server's answer to a watch from an expired version (a 200 and one ERROR event).
    // A young cluster still holds version 1: in etcd until compacted, and in the API server's
    // watch cache (which answers watches from memory) until it restarts. Compacted and
    // restarted, the server has certainly forgotten it.
    const apiserver = new ApiServer(t.kube.kc);
    await apiserver.stop();
    await apiserver.compactEtcd();
    await apiserver.start();
    apiserver.heal(); // the controllers exit when their Lease goes unrenewed; bring them back
    let expired = "";
    await watchJson(
      t.kube.kc,
      apiUrl(t.kube.kc, path, { watch: "true", resourceVersion: "1", timeoutSeconds: "5" }),
      {
        onEvent: (type, object) => (expired ||= `${JSON.stringify({ type, object })}\n`),
        signal: AbortSignal.timeout(10_000),
      },
    );
    expect(expired).toMatch(/"code":410/);
    const errors: unknown[] = [];
    const { inf, events } = informer("outage", { onError: (e) => errors.push(e) });
    inf.start();
    try {
      await inf.waitForSync();
      expect(names(inf)).toEqual(["outage-00", "outage-01", "outage-02"]);
      // The outage: no bytes move, the cluster changes, every connection is cut, and the API
      // server has meanwhile forgotten the cache's version.
      tcp.freeze();
      const from = proxy.seen.length;
      const gone = proxy.answer(
        (r) => ours(r) && params(r).has("resourceVersion") && !streaming(r),
        200,
        expired,
      );
      await t.kube.core.deleteNamespacedConfigMap({ name: "outage-01", namespace: t.ns });
      await t.kube.core.createNamespacedConfigMap({
        namespace: t.ns,
        body: cm("outage-03", { set: "outage" }),
      });
      tcp.dropAll();
      tcp.thaw();
      await until(events, (e) => e.type === "delete" && e.object.metadata?.name === "outage-01");
      await inf.waitForSync();
      gone();
      expect(names(inf)).toEqual(["outage-00", "outage-02", "outage-03"]);
      expect(inf.relists).toEqual({ streamed: 2, paged: 0 });
      expect(errors.map((e) => (e as { statusCode?: number }).statusCode)).toContain(410);
      const reqs = requestsSince(from, "outage");
      const resumed = reqs.findIndex((r) => r.answeredByProxy);
      expect(resumed).toBeGreaterThanOrEqual(0);
      // After the 410, the relist is a streaming watch again, from the current state.
      const relist = reqs.slice(resumed + 1).find(streaming);
      expect(relist && params(relist).has("resourceVersion")).toBe(false);
      expect(reqs.some((r) => params(r).get("watch") !== "true")).toBe(false); // no LIST
    } finally {
      await inf.stop();
    }
  });
});
