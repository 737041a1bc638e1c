// The request-level HTTPS proxy (test/support/http-proxy.ts) on the real control plane, as a
// ServiceAccount: ordinary requests and watches pass through (streaming), a delayed Lease
// update reaches the API server at once but is answered late, a held one does not reach it
// until released, and clients that give up (held, delayed, watching) leave the proxy healthy.
// The API server's audit log is the witness of what reached it and when.
import { execFile } from "node:child_process";
import type { ClientRequest } from "node:http";
import { request } from "node:https";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { loadKubeConfig, makeClients } from "../../src/kube/client.js";
import type { AuditEvent } from "../support/audit.js";
import { completedMs, receivedMs, requestsBy } from "../support/audit.js";
import type { SeenRequest } from "../support/http-proxy.js";
import { HttpProxy, isLeaseRequest, leaseRequest, upstreamOf } from "../support/http-proxy.js";
import type { Kube } from "../support/kube.js";
import { connect, preciseNow } from "../support/kube.js";
import type { Identity } from "../support/monkey.js";
import { viaHttpProxy } from "../support/monkey.js";
import { e2eSuite } from "../support/suite.js";

// The name the monkey's own Role (monkeyIdentity) lets it get and update.
const LEASE = "chaos-monkey";
const DELAY_MS = 3000;

// t.kube: admin, direct; t.selfNs: the ServiceAccount's own namespace, where the Lease is.
const t = e2eSuite("e2e-http-proxy", { workloads: false });
let direct: k8s.CoordinationV1Api;
let id: Identity; // the ServiceAccount, through the proxy
let proxy: HttpProxy;
let viaProxy: Kube;
let proxiedLeases: k8s.CoordinationV1Api;

beforeAll(async () => {
  direct = t.kube.kc.makeApiClient(k8s.CoordinationV1Api);
  const cluster = t.kube.kc.getCurrentCluster();
  if (!cluster) throw new Error("no cluster");
  proxy = await HttpProxy.start(upstreamOf(cluster));
  id = viaHttpProxy(t.id, proxy);
  viaProxy = connect(id.kubeconfig);
  proxiedLeases = viaProxy.kc.makeApiClient(k8s.CoordinationV1Api);
  await direct.createNamespacedLease({
    namespace: t.selfNs,
    body: { metadata: { name: LEASE }, spec: { holderIdentity: "a", leaseDurationSeconds: 15 } },
  });
});

afterEach(() => proxy.clear());

afterAll(async () => {
  await proxy?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until it holds; resolves with the time it first did. */
async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return preciseNow();
    if (Date.now() > end) throw new Error(`condition not met in ${timeoutMs} ms`);
    await sleep(25);
  }
}

const holderNow = async () =>
  (await direct.readNamespacedLease({ name: LEASE, namespace: t.selfNs })).spec?.holderIdentity;

/** The Lease as the API server has it now, with another holder (an update body). */
async function withHolder(holder: string): Promise<k8s.V1Lease> {
  const lease = await direct.readNamespacedLease({ name: LEASE, namespace: t.selfNs });
  return { ...lease, spec: { ...lease.spec, holderIdentity: holder } };
}

const putLease = (holder: string) =>
  withHolder(holder).then((body) =>
    proxiedLeases.replaceNamespacedLease({ name: LEASE, namespace: t.selfNs, body }),
  );

/** The ServiceAccount's updates of the Lease the API server received, from its audit log. */
const leaseUpdates = (): AuditEvent[] =>
  requestsBy(inject("auditLog"), id.username).filter(
    (e) => e.verb === "update" && e.objectRef?.resource === "leases" && e.objectRef.name === LEASE,
  );

/** A non-Lease request through the proxy, timed. */
async function timedNamespaceRead(): Promise<number> {
  const t0 = preciseNow();
  const got = await viaProxy.core.readNamespace({ name: t.selfNs });
  expect(got.metadata?.name).toBe(t.selfNs);
  return preciseNow() - t0;
}

/** A request straight through the proxy with the ServiceAccount's token, abortable. */
function raw(
  method: string,
  path: string,
  body?: unknown,
): { req: ClientRequest; done: Promise<number> } {
  const token = viaProxy.kc.getCurrentUser()?.token ?? "";
  const req = request(`${proxy.url}${path}`, {
    method,
    ca: proxy.caPem,
    agent: false,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  });
  const done = new Promise<number>((resolve, reject) => {
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
  });
  done.catch(() => {}); // the aborting tests destroy it on purpose
  req.end(body === undefined ? undefined : JSON.stringify(body));
  return { req, done };
}

const leasePath = () => `/apis/coordination.k8s.io/v1/namespaces/${t.selfNs}/leases/${LEASE}`;

describe("HttpProxy in front of the API server", () => {
  it("passes a GET with the ServiceAccount's token, and the monkey's own client and kubectl", async () => {
    const t0 = preciseNow();
    expect(await timedNamespaceRead()).toBeLessThan(2000);
    const seen = proxy.seen.find(
      (s) => s.atMs >= t0 && s.path === `/api/v1/namespaces/${t.selfNs}`,
    );
    expect(seen).toMatchObject({ method: "GET", status: 200 });
    expect(seen?.delayedMs).toBeUndefined();
    expect(seen?.held).toBeUndefined();
    // The identity is the ServiceAccount's (the Authorization header passed), not the proxy's.
    const nsReads = () =>
      requestsBy(inject("auditLog"), id.username).filter(
        (e) =>
          e.verb === "get" && e.objectRef?.resource === "namespaces" && receivedMs(e) >= t0 - 1000,
      );
    await until(() => nsReads().length >= 1, 5000);

    // The monkey's own client (undici, one pooled Agent) and kubectl (Go TLS) trust the proxy.
    const monkey = makeClients(loadKubeConfig({ kubeconfig: id.kubeconfig, inCluster: false }));
    const lease = await monkey.coordination.readNamespacedLease({
      name: LEASE,
      namespace: t.selfNs,
    });
    expect(lease.metadata?.name).toBe(LEASE);
    const kubectl = `${inject("bindir")}/kubectl`;
    const { stdout } = await promisify(execFile)(kubectl, [
      "--kubeconfig",
      id.kubeconfig,
      "get",
      "namespace",
      t.selfNs,
      "-o",
      "name",
    ]);
    expect(stdout.trim()).toBe(`namespace/${t.selfNs}`);
  });

  it("streams a watch: events that happen after it opened arrive while it stays open", async () => {
    const rv =
      (await t.kube.core.readNamespace({ name: t.selfNs })).metadata?.resourceVersion ?? "";
    const events: { tick: string | undefined; atMs: number }[] = [];
    const t0 = preciseNow();
    const abort = await new k8s.Watch(viaProxy.kc).watch(
      "/api/v1/namespaces",
      { fieldSelector: `metadata.name=${t.selfNs}`, resourceVersion: rv },
      (_type, obj: k8s.V1Namespace) =>
        events.push({
          tick: obj.metadata?.labels?.["e2e.chaos-monkey.io/tick"],
          atMs: preciseNow(),
        }),
      () => {},
    );
    try {
      const watch = await proxy.waitFor(
        (s) => s.atMs >= t0 && s.query.includes("watch=") && s.respondedAtMs !== undefined,
      );
      expect(watch.status).toBe(200);
      for (const tick of ["1", "2", "3"]) {
        await sleep(500);
        const n = await t.kube.core.readNamespace({ name: t.selfNs });
        n.metadata = {
          ...n.metadata,
          labels: { ...n.metadata?.labels, "e2e.chaos-monkey.io/tick": tick },
        };
        const changedAt = preciseNow();
        await t.kube.core.replaceNamespace({ name: t.selfNs, body: n });
        const arrivedAt = await until(() => events.some((e) => e.tick === tick), 5000);
        expect(arrivedAt - changedAt, `tick ${tick}`).toBeLessThan(2000);
      }
      // One response carried them all, and it is still open.
      expect(watch.finishedAtMs).toBeUndefined();
      expect(events.map((e) => e.tick)).toEqual(["1", "2", "3"]);
    } finally {
      abort.abort();
    }
  });

  it("delays a Lease update's answer: the API server has it at once, the client only after the delay", async () => {
    const auditBefore = leaseUpdates().length;
    const body = await withHolder("b");
    proxy.delay(isLeaseRequest, DELAY_MS);
    const t0 = preciseNow();
    const put = proxiedLeases
      .replaceNamespacedLease({ name: LEASE, namespace: t.selfNs, body })
      .then((lease) => ({ lease, at: preciseNow() }));
    put.catch(() => {}); // awaited below; not unhandled if an assertion fails first
    const changedAt = await until(async () => (await holderNow()) === "b", DELAY_MS);
    // Everything else passes undelayed meanwhile.
    expect(await timedNamespaceRead()).toBeLessThan(1000);
    const { lease, at } = await put;
    expect(lease.spec?.holderIdentity).toBe("b");
    expect(changedAt - t0, "the update reached the API server at once").toBeLessThan(1000);
    expect(at - t0, "answered only after the delay").toBeGreaterThanOrEqual(DELAY_MS);
    expect(at).toBeGreaterThan(changedAt + DELAY_MS / 2);

    const seen = proxy.seen.find((s) => s.method === "PUT" && s.atMs >= t0);
    expect(seen).toMatchObject({ path: leasePath(), delayedMs: DELAY_MS, status: 200 });
    expect((seen?.respondedAtMs ?? 0) - (seen?.answeredAtMs ?? 0)).toBeGreaterThanOrEqual(
      DELAY_MS - 5,
    );
    // The API server's own record: received and answered long before the client heard.
    await until(() => leaseUpdates().length > auditBefore, 5000);
    const updates = leaseUpdates();
    expect(updates.length).toBe(auditBefore + 1);
    const update = updates.at(-1);
    if (!update) throw new Error("no update in the audit log");
    expect(update.responseStatus?.code).toBe(200);
    expect(receivedMs(update) - t0).toBeLessThan(1000);
    expect(at - completedMs(update)).toBeGreaterThan(DELAY_MS - 1000);
  });

  it("holds a Lease update away from the API server until released", async () => {
    const auditBefore = leaseUpdates().length;
    const holder = await holderNow();
    const body = await withHolder("c");
    proxy.hold(leaseRequest(LEASE, ["PUT"]));
    const t0 = preciseNow();
    let answered = false;
    const put = proxiedLeases
      .replaceNamespacedLease({ name: LEASE, namespace: t.selfNs, body })
      .finally(() => (answered = true));
    put.catch(() => {}); // awaited below; not unhandled if an assertion fails first
    const held = await proxy.waitFor((s) => s.atMs >= t0 && s.held === true);
    expect(held).toMatchObject({ method: "PUT", path: leasePath() });
    expect(proxy.heldCount).toBe(1);
    // A GET of the same Lease is not matched by this rule, nor is anything else.
    const got = await proxiedLeases.readNamespacedLease({ name: LEASE, namespace: t.selfNs });
    expect(got.spec?.holderIdentity).toBe(holder);
    expect(await timedNamespaceRead()).toBeLessThan(1000);
    await sleep(1500);
    expect(answered).toBe(false);
    expect(await holderNow(), "the API server still has the old record").toBe(holder);
    expect(leaseUpdates().length, "no update reached the API server").toBe(auditBefore);
    expect(held.forwardedAtMs).toBeUndefined();

    const releasedAt = preciseNow();
    proxy.release();
    expect(proxy.heldCount).toBe(0);
    expect((await put).spec?.holderIdentity).toBe("c");
    expect(await holderNow()).toBe("c");
    expect(held.releasedAtMs).toBeGreaterThanOrEqual(releasedAt);
    await until(() => leaseUpdates().length > auditBefore, 5000);
    const update = leaseUpdates().at(-1);
    expect(leaseUpdates().length).toBe(auditBefore + 1);
    expect(receivedMs(update as AuditEvent)).toBeGreaterThan(releasedAt - 200);
  });

  it("survives clients that give up: held, delayed, and watching", async () => {
    const auditBefore = leaseUpdates().length;
    const holder = await holderNow();
    const openBefore = proxy.openUpstream;

    // Held: the request never goes upstream, even after the rule is cleared.
    proxy.hold(isLeaseRequest);
    const t0 = preciseNow();
    const held = raw("PUT", leasePath(), await withHolder("d"));
    const entry = await proxy.waitFor((s) => s.atMs >= t0 && s.held === true);
    held.req.destroy();
    await expect(held.done).rejects.toThrow();
    await proxy.waitFor((s) => s === entry && s.aborted === true);
    expect(proxy.heldCount).toBe(0);
    proxy.clear();
    await sleep(500);
    expect(entry.forwardedAtMs).toBeUndefined();
    expect(await holderNow()).toBe(holder);
    expect(leaseUpdates().length).toBe(auditBefore);

    // Delayed: the answer came from upstream, the client left before the proxy sent it.
    proxy.delay(isLeaseRequest, DELAY_MS);
    const t1 = preciseNow();
    const slow = raw("GET", leasePath());
    const answered = await proxy.waitFor((s) => s.atMs >= t1 && s.answeredAtMs !== undefined);
    slow.req.destroy();
    await expect(slow.done).rejects.toThrow();
    await proxy.waitFor((s) => s === answered && s.aborted === true);
    await sleep(DELAY_MS + 200);
    expect(answered.respondedAtMs).toBeUndefined();
    proxy.clear();

    // Watching: the client leaves a streaming watch; the upstream watch is closed too.
    const t2 = preciseNow();
    const watch = raw(
      "GET",
      `/api/v1/namespaces?watch=true&fieldSelector=metadata.name%3D${t.selfNs}`,
    );
    const open = await proxy.waitFor((s) => s.atMs >= t2 && s.respondedAtMs !== undefined);
    expect(proxy.openUpstream).toBe(openBefore + 1);
    watch.req.destroy();
    await proxy.waitFor((s) => s === open && s.aborted === true);
    await until(() => proxy.openUpstream === openBefore, 5000);

    // And the proxy still serves everyone, Leases included.
    expect(await timedNamespaceRead()).toBeLessThan(1000);
    expect((await putLease("e")).spec?.holderIdentity).toBe("e");
    expect(await holderNow()).toBe("e");
    const failed = proxy.seen.filter((s: SeenRequest) => s.error !== undefined);
    expect(failed, JSON.stringify(failed)).toEqual([]);
  });
});
