// The deploy manifests on the real control plane (issue 5 acceptance): every overlay renders and
// applies server-side, its pod template is admitted under Pod Security `restricted`, the monkey
// running as the overlay's own ServiceAccount works inside its scope and is refused outside it
// (issue 11: no workload get, ConfigMaps only its journal in its own namespace), the NetworkPolicy
// admits only the metrics port, the CronJob's command line ends in a verdict, and the production
// bundle serves health and metrics.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { parse, parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { receivedMs, requestsBy } from "../support/audit.js";
import type { Kube } from "../support/kube.js";
import {
  connect,
  createNamespace,
  deleteNamespace,
  deploymentReady,
  statusOf,
} from "../support/kube.js";
import type { Identity, Ran } from "../support/monkey.js";
import {
  freePort,
  onceResultOf,
  runMonkey,
  startMonkey,
  tokenIdentity,
  writeConfig,
} from "../support/monkey.js";
import { deployment } from "../support/objects.js";
import { imageNodeOptions } from "../support/image.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const OVERLAYS = ["base", "namespaced", "cluster", "cronjob", "dry-run", "monitoring"] as const;
const NS = "chaos-monkey"; // the manifests' own namespace
const JOURNAL = "chaos-monkey-journal";
let kube: Kube;
let kubeconfig: string;

const dirOf = (o: string) => join(ROOT, "kustomize", o === "base" ? "base" : `overlays/${o}`);
const kubectl = (...args: string[]) =>
  execFileSync("kubectl", ["--kubeconfig", kubeconfig, ...args], {
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
  });
const render = (o: string): k8s.KubernetesObject[] =>
  parseAllDocuments(execFileSync("kubectl", ["kustomize", dirOf(o)], { encoding: "utf8" })).map(
    (d) => d.toJS() as k8s.KubernetesObject,
  );

/** Deletes what the previous overlay left that this one does not declare (server-side apply only adds). */
function resetClusterScoped(): void {
  kubectl(
    "delete",
    "clusterrole,clusterrolebinding",
    "-l",
    "app.kubernetes.io/name=chaos-monkey",
    "--ignore-not-found",
  );
}

/** Minimal CRDs for the monitoring overlay's kinds (the Prometheus operator is not installed here). */
async function monitoringCrds(): Promise<void> {
  for (const [plural, kind] of [
    ["servicemonitors", "ServiceMonitor"],
    ["prometheusrules", "PrometheusRule"],
  ] as const) {
    const body = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `${plural}.monitoring.coreos.com` },
      spec: {
        group: "monitoring.coreos.com",
        scope: "Namespaced",
        names: { plural, kind, singular: kind.toLowerCase(), listKind: `${kind}List` },
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            schema: {
              openAPIV3Schema: {
                type: "object",
                // Server-side apply needs spec declared; its content is the real operator's business.
                properties: {
                  spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
                },
              },
            },
          },
        ],
      },
    };
    try {
      await kube.objects.create(body);
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
      const current = await kube.objects.read(body);
      await kube.objects.replace({
        ...body,
        metadata: { ...body.metadata, resourceVersion: current.metadata?.resourceVersion },
      });
    }
  }
  kubectl(
    "wait",
    "--for=condition=Established",
    "crd/servicemonitors.monitoring.coreos.com",
    "crd/prometheusrules.monitoring.coreos.com",
    "--timeout=30s",
  );
}

function podTemplate(objs: k8s.KubernetesObject[]): k8s.V1PodTemplateSpec {
  const d: k8s.V1Deployment | undefined = objs.find((o) => o.kind === "Deployment");
  const c = objs.find((o) => o.kind === "CronJob") as k8s.V1CronJob | undefined;
  const t = d?.spec?.template ?? c?.spec?.jobTemplate.spec?.template;
  if (!t) throw new Error("no pod template");
  return t;
}

/** A server-side dry-run create of the template as a Pod: admission (Pod Security) decides. */
async function admitted(t: k8s.V1PodTemplateSpec): Promise<number> {
  try {
    await kube.core.createNamespacedPod({
      namespace: NS,
      dryRun: "All",
      body: {
        metadata: { name: "admission-probe", labels: t.metadata?.labels ?? {} },
        spec: t.spec,
      },
    });
    return 201;
  } catch (err) {
    return statusOf(err) ?? 0;
  }
}

/** The NetworkPolicy, as stored: selects the template's pod, ingress on 8080 from anywhere only. */
function expectMetricsOnlyPolicy(t: k8s.V1PodTemplateSpec): void {
  const policy = JSON.parse(
    kubectl("get", "networkpolicy", "chaos-monkey", "-n", NS, "-o", "json"),
  ) as k8s.V1NetworkPolicy;
  const selector = policy.spec?.podSelector ?? {};
  expect(Object.keys(selector.matchLabels ?? {})).not.toEqual([]);
  expect(selector.matchExpressions).toBeUndefined();
  expect(t.metadata?.labels ?? {}).toMatchObject(selector.matchLabels ?? {});
  expect(policy.spec?.policyTypes).toEqual(["Ingress"]);
  expect(policy.spec?.ingress).toEqual([{ ports: [{ protocol: "TCP", port: 8080 }] }]);
  expect(policy.spec?.egress).toBeUndefined();
}

/** The overlay's config, made to act now on `namespace`: live, no blackout, no minimum age. */
function configFrom(objs: k8s.KubernetesObject[], namespace: string): string {
  const cm: k8s.V1ConfigMap | undefined = objs.find((o) => o.kind === "ConfigMap");
  const config = parse(cm?.data?.["config.yaml"] ?? "") as {
    dryRun: boolean;
    safety?: Record<string, unknown>;
    targets: Record<string, unknown>[];
  };
  config.dryRun = false;
  if (config.safety) delete config.safety.blackout;
  config.targets = config.targets
    .filter((t) => t.kind === "Pod")
    .map((t) => ({
      ...t,
      jitter: "0s",
      selector: { ...(t.selector as object), namespaces: [namespace], minAge: "0s" },
      recovery: { timeout: "60s" },
    }));
  return writeConfig(config);
}

const refusedAs = async (
  id: Identity,
  call: (core: k8s.CoreV1Api) => Promise<unknown>,
): Promise<number | undefined> => {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(id.kubeconfig);
  try {
    await call(kc.makeApiClient(k8s.CoreV1Api));
    return 200;
  } catch (err) {
    return statusOf(err);
  }
};

/** What the API server's authorizer answers `id` for one request (SelfSubjectAccessReview). */
async function allowedAs(id: Identity, attrs: k8s.V1ResourceAttributes): Promise<boolean> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(id.kubeconfig);
  const review = await kc.makeApiClient(k8s.AuthorizationV1Api).createSelfSubjectAccessReview({
    body: { spec: { resourceAttributes: attrs } },
  });
  return review.status?.allowed === true;
}

/**
 * Every overlay's ServiceAccount: its journal (by name) and its Lease in its own namespace and
 * nothing else there; no ConfigMap anywhere else; workloads watched, never read one by one.
 * `scope` is a namespace the overlay kills in (pods and workloads readable, no ConfigMap rights).
 */
async function expectOwnNamespaceOnly(id: Identity, scope: string): Promise<void> {
  const can = (verb: string, resource: string, namespace: string, more = {}) =>
    allowedAs(id, { verb, resource, namespace, ...more });
  const cm = { group: "" };
  const named = (name: string) => ({ ...cm, name });
  expect({
    journalCreate: await can("create", "configmaps", NS, cm),
    journalGet: await can("get", "configmaps", NS, named(JOURNAL)),
    journalUpdate: await can("update", "configmaps", NS, named(JOURNAL)),
    journalPatch: await can("patch", "configmaps", NS, named(JOURNAL)),
    journalDelete: await can("delete", "configmaps", NS, named(JOURNAL)),
    configMapsList: await can("list", "configmaps", NS, cm),
    configMapsWatch: await can("watch", "configmaps", NS, cm),
    configGet: await can("get", "configmaps", NS, named("chaos-monkey-config")),
    configUpdate: await can("update", "configmaps", NS, named("chaos-monkey-config")),
    otherNsCreate: await can("create", "configmaps", scope, cm),
    otherNsJournalUpdate: await can("update", "configmaps", scope, named(JOURNAL)),
    leaseGet: await can("get", "leases", NS, {
      group: "coordination.k8s.io",
      name: "chaos-monkey",
    }),
    leaseOtherUpdate: await can("update", "leases", NS, {
      group: "coordination.k8s.io",
      name: "other",
    }),
    leaseOtherNsCreate: await can("create", "leases", scope, { group: "coordination.k8s.io" }),
    deploymentsList: await can("list", "deployments", scope, { group: "apps" }),
    deploymentGet: await can("get", "deployments", scope, { group: "apps", name: "shop-web" }),
    replicaSetGet: await can("get", "replicasets", scope, { group: "apps", name: "x" }),
    podGet: await can("get", "pods", scope, { name: "x" }),
  }).toEqual({
    journalCreate: true,
    journalGet: true,
    journalUpdate: true,
    journalPatch: false,
    journalDelete: false,
    configMapsList: false,
    configMapsWatch: false,
    configGet: false,
    configUpdate: false,
    otherNsCreate: false,
    otherNsJournalUpdate: false,
    leaseGet: true,
    leaseOtherUpdate: false,
    leaseOtherNsCreate: false,
    deploymentsList: true,
    deploymentGet: false,
    replicaSetGet: false,
    podGet: true,
  });
  // And as real requests: its own config (another ConfigMap in its namespace) cannot be
  // rewritten, and no ConfigMap, not even one named like the journal, created elsewhere.
  const config = await kube.core.readNamespacedConfigMap({
    name: "chaos-monkey-config",
    namespace: NS,
  });
  expect(
    await refusedAs(id, (c) =>
      c.replaceNamespacedConfigMap({ name: "chaos-monkey-config", namespace: NS, body: config }),
    ),
  ).toBe(403);
  expect(
    await refusedAs(id, (c) =>
      c.createNamespacedConfigMap({ namespace: scope, body: { metadata: { name: JOURNAL } } }),
    ),
  ).toBe(403);
  expect(await refusedAs(id, (c) => c.listNamespacedConfigMap({ namespace: NS }))).toBe(403);
}

/**
 * Runs `chaos-monkey ARGS` as `id` and checks, in the API server's audit log, that none of the
 * requests it made meanwhile was refused: the overlay grants every call the code makes.
 */
async function runAs(id: Identity, args: string[], env: Record<string, string>): Promise<Ran> {
  const from = Date.now() - 1000;
  const r = await runMonkey([...args, "--kubeconfig", id.kubeconfig], env);
  const to = Date.now() + 1000;
  const refused = requestsBy(inject("auditLog"), id.username)
    .filter((e) => receivedMs(e) >= from && receivedMs(e) <= to)
    .filter((e) => e.responseStatus?.code === 403)
    .map((e) => `${e.verb} ${e.requestURI}`);
  expect(refused, "requests the monkey was refused").toEqual([]);
  return r;
}

async function targetWorkload(namespace: string): Promise<void> {
  await kube.apps.createNamespacedDeployment({
    namespace,
    body: deployment(namespace, "shop-web", {
      replicas: 2,
      labels: { "chaos-monkey.io/target": "true" },
    }),
  });
  await deploymentReady(kube, namespace, "shop-web", 2);
}

beforeAll(async () => {
  kubeconfig = inject("kubeconfig");
  kube = connect(kubeconfig);
  await monitoringCrds();
  // The namespaced overlay grants rights in `shop`, an application namespace it expects to exist.
  try {
    await kube.core.createNamespace({ body: { metadata: { name: "shop" } } });
  } catch (err) {
    if (statusOf(err) !== 409) throw err;
  }
});

afterAll(() => {
  resetClusterScoped();
  kubectl("delete", "namespace", NS, "shop", "--ignore-not-found", "--wait=false");
});

describe("kustomize overlays", () => {
  it.each(OVERLAYS)(
    "%s renders, applies server-side, and its pod is admitted under Pod Security restricted",
    async (overlay) => {
      const objs = render(overlay);
      resetClusterScoped();
      kubectl("apply", "--server-side", "--force-conflicts", "-k", dirOf(overlay));
      const ns = await kube.core.readNamespace({ name: NS });
      expect(ns.metadata?.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
      const t = podTemplate(objs);
      expect(await admitted(t)).toBe(201);
      // Control: the same pod with privilege escalation allowed is refused, so enforcement is real.
      const loose = structuredClone(t);
      for (const c of loose.spec?.containers ?? [])
        c.securityContext = { ...c.securityContext, allowPrivilegeEscalation: true };
      expect(await admitted(loose)).toBe(403);
      expectMetricsOnlyPolicy(t);
    },
    120_000,
  );
});

describe("RBAC scope, as the overlay's own ServiceAccount", () => {
  it("namespaced: kills in shop; refused secrets, other namespaces' pods and volumes", async () => {
    resetClusterScoped();
    kubectl("apply", "--server-side", "--force-conflicts", "-k", dirOf("namespaced"));
    await targetWorkload("shop");
    const id = await tokenIdentity(kube, NS, "chaos-monkey");
    const r = await runAs(
      id,
      ["once", "--config", configFrom(render("namespaced"), "shop"), "--output", "json"],
      { POD_NAMESPACE: NS, POD_NAME: "e2e-once" },
    );
    expect(r.code, r.stderr).toBe(0);
    const [round] = onceResultOf(r.stdout);
    expect(round?.victims).toMatchObject([
      { namespace: "shop", result: "killed", outcome: "recovered" },
    ]);
    expect(await refusedAs(id, (c) => c.listNamespacedSecret({ namespace: "shop" }))).toBe(403);
    expect(await refusedAs(id, (c) => c.listNamespacedSecret({ namespace: NS }))).toBe(403);
    expect(await refusedAs(id, (c) => c.listNamespacedPod({ namespace: "default" }))).toBe(403);
    expect(await refusedAs(id, (c) => c.listPodForAllNamespaces())).toBe(403);
    expect(await refusedAs(id, (c) => c.listPersistentVolume())).toBe(403);
    expect(
      await refusedAs(id, (c) => c.listNamespacedPersistentVolumeClaim({ namespace: "shop" })),
    ).toBe(403);
    await expectOwnNamespaceOnly(id, "shop");
  }, 180_000);

  it("cluster: kills pods anywhere and may touch claims and volumes; still refused secrets", async () => {
    resetClusterScoped();
    kubectl("apply", "--server-side", "--force-conflicts", "-k", dirOf("cluster"));
    const ns = await createNamespace(kube, "e2e-deploy-cluster");
    try {
      await targetWorkload(ns);
      const id = await tokenIdentity(kube, NS, "chaos-monkey");
      const r = await runAs(
        id,
        ["once", "--config", configFrom(render("cluster"), ns), "--output", "json"],
        { POD_NAMESPACE: NS, POD_NAME: "e2e-once" },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('"outcome": "recovered"');
      expect(await refusedAs(id, (c) => c.listPersistentVolume())).toBe(200);
      expect(await refusedAs(id, (c) => c.listPersistentVolumeClaimForAllNamespaces())).toBe(200);
      expect(await refusedAs(id, (c) => c.listNamespacedSecret({ namespace: ns }))).toBe(403);
      expect(await refusedAs(id, (c) => c.listSecretForAllNamespaces())).toBe(403);
      await expectOwnNamespaceOnly(id, ns);
    } finally {
      await deleteNamespace(kube, ns);
    }
  }, 180_000);

  it("cronjob: the CronJob's own command line, run as a process, exits 0 after recovery", async () => {
    resetClusterScoped();
    kubectl("apply", "--server-side", "--force-conflicts", "-k", dirOf("cronjob"));
    const objs = render("cronjob");
    const cron = objs.find((o) => o.kind === "CronJob") as k8s.V1CronJob;
    expect(cron.spec?.concurrencyPolicy).toBe("Forbid");
    const container = cron.spec?.jobTemplate.spec?.template.spec?.containers[0];
    const args = [...(container?.args ?? [])];
    expect(args[0]).toBe("once");
    const ns = await createNamespace(kube, "e2e-deploy-cron");
    try {
      await targetWorkload(ns);
      const id = await tokenIdentity(kube, NS, "chaos-monkey");
      // The mounted config path becomes a local file; the in-cluster identity a token kubeconfig.
      const i = args.indexOf("--config");
      args[i + 1] = configFrom(objs, ns);
      const r = await runAs(id, args, { POD_NAMESPACE: NS, POD_NAME: "e2e-cron" });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/killed .* recovered\s*$/m);
      // `once` keeps the same journal and Lease as `run`, and has no volume rights.
      expect(await refusedAs(id, (c) => c.listPersistentVolume())).toBe(403);
      await expectOwnNamespaceOnly(id, ns);
    } finally {
      await deleteNamespace(kube, ns);
    }
  }, 180_000);
});

describe("the production bundle", () => {
  it("starts alone (no node_modules), serves /healthz, /readyz and /metrics, and stops on SIGTERM", async () => {
    execFileSync("npm", ["run", "--silent", "bundle"], { cwd: ROOT, stdio: "inherit" });
    const dir = mkdtempSync(join(tmpdir(), "kcm-bundle-"));
    const bundle = join(dir, "chaos-monkey.mjs");
    copyFileSync(join(ROOT, "dist/bundle/chaos-monkey.mjs"), bundle);
    resetClusterScoped();
    kubectl("apply", "--server-side", "--force-conflicts", "-k", dirOf("base"));
    const id = await tokenIdentity(kube, NS, "chaos-monkey");
    const port = await freePort();
    const started = performance.now();
    const m = startMonkey(
      [
        "run",
        "--config",
        join(ROOT, "kustomize/base/config.yaml"),
        "--kubeconfig",
        id.kubeconfig,
        "--listen",
        `127.0.0.1:${port}`,
      ],
      { POD_NAMESPACE: NS, NODE_OPTIONS: imageNodeOptions() },
      bundle,
    );
    try {
      let ready = 0;
      while (ready !== 200 && performance.now() - started < 30_000) {
        ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
        if (ready !== 200) await new Promise((r) => setTimeout(r, 20));
      }
      const startup = performance.now() - started;
      expect(ready).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toMatch(/chaos_monkey_build_info\{version="[^"]+"\} 1/);
      expect(metrics).toContain("process_resident_memory_bytes");
      console.info(
        `bundle: ${(statSync(bundle).size / 1024 / 1024).toFixed(2)} MiB; start to /readyz 200: ${startup.toFixed(0)} ms`,
      );
    } finally {
      m.proc.kill("SIGTERM");
      expect(await m.exited).toBe(0);
    }
  }, 120_000);
});
