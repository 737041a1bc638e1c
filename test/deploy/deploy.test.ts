// The deploy manifests, checked without a cluster: skaffold.yaml against skaffold's own schema,
// every kustomize tree rendered by the real `kubectl kustomize`, and the rendered objects held
// to least privilege, Pod Security `restricted` and a config the monkey accepts.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import { parse, parseAllDocuments } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { createMetrics } from "../../src/observe/metrics.js";
import { imageNodeOptions, imageNodeVersion } from "../support/image.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SKAFFOLD_SCHEMA = new URL("../../../shared/schemas/skaffold-v4beta14.json", import.meta.url);
const OVERLAYS = ["namespaced", "cluster", "cronjob", "dry-run", "monitoring"] as const;
const TREES = ["base", ...OVERLAYS] as const;
type Tree = (typeof TREES)[number];
const treeDir = (t: Tree) => join(ROOT, "kustomize", t === "base" ? "base" : `overlays/${t}`);

const NS = "chaos-monkey";
const CONFIG_MAP = "chaos-monkey-config";
const CONFIG_FILE = "/etc/chaos-monkey/config.yaml";
const JOURNAL_NAME = "chaos-monkey-journal";
const METRICS_PORT = 8080;

// ---- Rendering ----

interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}
interface Obj {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  [field: string]: unknown;
}

/** The kubectl built for the local control plane (pinned), else any on PATH. */
function findKubectl(): string {
  const versions = Object.fromEntries(
    readFileSync(join(ROOT, "test/cluster/versions.env"), "utf8")
      .split("\n")
      .filter((l) => /^[A-Z0-9_]+=/.test(l))
      .map((l) => l.split("=", 2) as [string, string]),
  );
  const cache = process.env.KCM_CACHE ?? join(homedir(), ".cache/kube-chaos-monkey");
  const bin = `bin-${versions.K8S_VERSION}-${versions.ETCD_VERSION}-${versions.KWOK_VERSION}`;
  const candidates = [
    join(cache, bin, "kubectl"),
    ...(process.env.PATH ?? "").split(delimiter).map((d) => join(d, "kubectl")),
  ];
  const found = candidates.find((p) => p && existsSync(p));
  if (!found)
    throw new Error(
      `kubectl not found (looked at ${candidates[0]} and on PATH): the deploy tests render the ` +
        "manifests with `kubectl kustomize`. Run `bash test/cluster/build-binaries.sh` (as .ci/run does) or put kubectl on PATH.",
    );
  return found;
}

function render(kubectl: string, tree: Tree): Obj[] {
  const yaml = execFileSync(kubectl, ["kustomize", treeDir(tree)], { encoding: "utf8" });
  return parseAllDocuments(yaml)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

const rendered = new Map<Tree, Obj[]>();
const objects = (tree: Tree): Obj[] => rendered.get(tree) ?? [];
const ofKind = <T = Obj>(tree: Tree, kind: string): (Obj & T)[] =>
  objects(tree).filter((o) => o.kind === kind) as (Obj & T)[];

// ---- RBAC: every grant the monkey's service account ends up with ----

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs?: string[];
  nonResourceURLs?: string[];
}
interface Role extends Obj {
  rules?: Rule[];
}
interface Binding extends Obj {
  roleRef: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

/** "<scope> <group>/<resource> <verb>[ [names]]", scope "cluster" or "ns:<namespace>". */
function grants(tree: Tree): string[] {
  const roles = [...ofKind<Role>(tree, "Role"), ...ofKind<Role>(tree, "ClusterRole")];
  const out: string[] = [];
  for (const b of [
    ...ofKind<Binding>(tree, "RoleBinding"),
    ...ofKind<Binding>(tree, "ClusterRoleBinding"),
  ]) {
    const role = roles.find(
      (r) =>
        r.kind === b.roleRef.kind &&
        r.metadata.name === b.roleRef.name &&
        (r.kind === "ClusterRole" || r.metadata.namespace === b.metadata.namespace),
    );
    if (!role)
      throw new Error(`${b.kind} ${b.metadata.name} refers to a missing ${b.roleRef.kind}`);
    const scope = b.kind === "ClusterRoleBinding" ? "cluster" : `ns:${b.metadata.namespace}`;
    for (const rule of role.rules ?? []) out.push(...expand(scope, rule));
  }
  return out.sort();
}

function expand(scope: string, rule: Rule): string[] {
  const names = rule.resourceNames?.length ? ` [${rule.resourceNames.join(",")}]` : "";
  return (rule.apiGroups ?? []).flatMap((g) =>
    (rule.resources ?? []).flatMap((r) =>
      (rule.verbs ?? []).map((v) => `${scope} ${g || "core"}/${r} ${v}${names}`),
    ),
  );
}

const each = (scope: string, resources: string[], verbs: string[], names = "") =>
  resources.flatMap((r) => verbs.map((v) => `${scope} ${r} ${v}${names}`));

/** What the code calls (src/kube, src/kill), nothing more: pods and namespaces are watched and
 * read one by one (a fresh get right before each kill), workloads only watched. */
const podRights = (scope: string) => [
  ...each(scope, ["core/pods"], ["get", "list", "watch", "delete"]),
  ...each(scope, ["core/pods/eviction"], ["create"]),
  ...each(
    scope,
    ["apps/deployments", "apps/replicasets", "apps/statefulsets", "apps/daemonsets"],
    ["list", "watch"],
  ),
  ...each(scope, ["events.k8s.io/events"], ["create"]),
];
/** In the monkey's own namespace only: create, then get and update by name. */
const byName = (resource: string, name: string) => [
  `ns:${NS} ${resource} create`,
  ...each(`ns:${NS}`, [resource], ["get", "update"], ` [${name}]`),
];
const LEASE = byName("coordination.k8s.io/leases", "chaos-monkey");
const JOURNAL = byName("core/configmaps", JOURNAL_NAME);
const NAMESPACES = each("cluster", ["core/namespaces"], ["get", "list", "watch"]);
const VOLUME_VERBS = ["get", "list", "watch", "delete", "patch"];
const CLAIMS = each("cluster", ["core/persistentvolumeclaims"], VOLUME_VERBS);
const VOLUMES = each("cluster", ["core/persistentvolumes"], VOLUME_VERBS);
const OWN = [...LEASE, ...JOURNAL];
const CLUSTER_WIDE = [...podRights("cluster"), ...NAMESPACES, ...OWN];

const EXPECTED_GRANTS: Record<Tree, string[]> = {
  base: CLUSTER_WIDE,
  "dry-run": CLUSTER_WIDE,
  cronjob: CLUSTER_WIDE,
  monitoring: CLUSTER_WIDE,
  cluster: [...CLUSTER_WIDE, ...CLAIMS, ...VOLUMES],
  namespaced: [
    ...podRights("ns:shop"),
    ...each("cluster", ["core/namespaces"], ["get", "list", "watch"], " [shop]"),
    ...OWN,
  ],
};

// ---- Pod specs ----

interface Container {
  name: string;
  args?: string[];
  env?: { name: string; valueFrom?: { fieldRef?: { fieldPath?: string } } }[];
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type?: string };
  };
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  livenessProbe?: { httpGet?: { path?: string } };
  readinessProbe?: { httpGet?: { path?: string } };
}
interface PodSpec {
  serviceAccountName?: string;
  restartPolicy?: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    seccompProfile?: { type?: string };
  };
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; configMap?: { name: string }; hostPath?: unknown }[];
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: PodSpec;
}
interface Deployment extends Obj {
  spec: { template: PodTemplate };
}
interface CronJob extends Obj {
  spec: {
    concurrencyPolicy?: string;
    jobTemplate: { spec: { backoffLimit?: number; template: PodTemplate } };
  };
}

/** The one pod template of a tree, with the command it runs. */
function workload(tree: Tree): {
  kind: string;
  pod: PodSpec;
  labels: Record<string, string>;
} {
  const deployments = ofKind<Deployment>(tree, "Deployment");
  const cronJobs = ofKind<CronJob>(tree, "CronJob");
  expect(deployments.length + cronJobs.length, "exactly one Deployment or CronJob").toBe(1);
  const d = deployments[0];
  const [kind, t] = d
    ? ["Deployment", d.spec.template]
    : ["CronJob", cronJobs[0]!.spec.jobTemplate.spec.template];
  return { kind, pod: t.spec, labels: t.metadata?.labels ?? {} };
}

/** Pod Security `restricted`, plus a read-only root file system. */
function expectRestricted(pod: PodSpec): void {
  expect({
    hostNetwork: pod.hostNetwork === true,
    hostPID: pod.hostPID === true,
    hostIPC: pod.hostIPC === true,
    hostPaths: pod.volumes?.filter((v) => v.hostPath !== undefined).length,
    runAsNonRoot: pod.securityContext?.runAsNonRoot,
    runAsUser: pod.securityContext?.runAsUser,
  }).toEqual({
    hostNetwork: false,
    hostPID: false,
    hostIPC: false,
    hostPaths: 0,
    runAsNonRoot: true,
    runAsUser: 65532,
  });
  for (const c of [...pod.containers, ...(pod.initContainers ?? [])])
    expect(effectiveSecurity(pod, c), c.name).toEqual({
      seccomp: "RuntimeDefault",
      runAsNonRoot: true,
      root: false,
      privileged: false,
      allowPrivilegeEscalation: false,
      dropsAll: true,
      adds: [],
      readOnlyRootFilesystem: true,
    });
}

/** A container's security settings, with what it inherits from the pod. */
function effectiveSecurity(pod: PodSpec, c: Container) {
  const own = c.securityContext ?? {};
  const inherited = { ...pod.securityContext, ...own };
  return {
    seccomp: inherited.seccompProfile?.type,
    runAsNonRoot: inherited.runAsNonRoot,
    root: inherited.runAsUser === 0,
    privileged: own.privileged === true,
    allowPrivilegeEscalation: own.allowPrivilegeEscalation,
    dropsAll: own.capabilities?.drop?.includes("ALL") === true,
    adds: own.capabilities?.add ?? [],
    readOnlyRootFilesystem: own.readOnlyRootFilesystem,
  };
}

/** Reads the mounted ConfigMap as a directory (hot reload), knows its pod and namespace. */
function expectWiredToConfig(tree: Tree, pod: PodSpec): void {
  const [c] = pod.containers;
  expect(pod.serviceAccountName).toBe("chaos-monkey");
  expect(c?.args?.slice(1, 3)).toEqual(["--config", CONFIG_FILE]);
  const fieldRef = (name: string) =>
    c?.env?.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath;
  expect(fieldRef("POD_NAME")).toBe("metadata.name");
  expect(fieldRef("POD_NAMESPACE")).toBe("metadata.namespace");
  const mount = c?.volumeMounts?.find((m) => m.mountPath === "/etc/chaos-monkey");
  expect(mount?.subPath).toBeUndefined();
  const volume = pod.volumes?.find((v) => v.name === mount?.name);
  expect(volume?.configMap?.name).toBe(CONFIG_MAP);
  expect(
    ofKind(tree, "ConfigMap").some((m) => m.metadata.name === CONFIG_MAP),
    "the mounted ConfigMap is rendered",
  ).toBe(true);
}

function embeddedConfig(tree: Tree): string {
  const cm = ofKind<Obj & { data?: Record<string, string> }>(tree, "ConfigMap").find(
    (m) => m.metadata.name === CONFIG_MAP,
  );
  const text = cm?.data?.["config.yaml"];
  if (text === undefined) throw new Error(`${tree}: no ${CONFIG_MAP} with a config.yaml key`);
  return text;
}

// ---- Tests ----

describe("skaffold.yaml", () => {
  const skaffold = parse(readFileSync(join(ROOT, "skaffold.yaml"), "utf8")) as {
    build: { artifacts: { image: string; docker?: { dockerfile?: string } }[] };
    manifests: { kustomize: { paths: string[] } };
    profiles: { name: string; manifests: { kustomize: { paths: string[] } } }[];
  };

  it("is valid against skaffold's v4beta14 JSON Schema", () => {
    const schema = JSON.parse(readFileSync(SKAFFOLD_SCHEMA, "utf8")) as object;
    // Annotations skaffold's schema carries for editors; they validate nothing.
    const ajv = new Ajv({ allErrors: true, strict: true }).addVocabulary([
      "preferredOrder",
      "x-intellij-html-description",
    ]);
    const validate = ajv.compile(schema);
    const ok = validate(skaffold);
    expect(ok, ajv.errorsText(validate.errors)).toBe(true);
  });

  it("runs the image on the Node the tests run on, with the NODE_OPTIONS the benchmark measured", () => {
    const ensured = /^NODE_VERSION=(\S+)$/m.exec(
      readFileSync(join(ROOT, "scripts/ensure-node.sh"), "utf8"),
    )?.[1];
    expect(ensured).toMatch(/^24\.\d+\.\d+$/);
    expect(imageNodeVersion()).toBe(ensured);
    const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
    // The runtime stage runs the build stage's binary, not a base image's own Node.
    expect(dockerfile).toMatch(/^COPY --from=build \/usr\/local\/bin\/node \/nodejs\/bin\/node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/nodejs\/bin\/node", /m);
    expect(imageNodeOptions().split(" ")).toContain("--max-semi-space-size=2");
  });

  it("builds the image from the Dockerfile and has one profile per overlay", () => {
    expect(skaffold.build.artifacts).toEqual([
      { image: "kube-chaos-monkey", docker: { dockerfile: "Dockerfile" } },
    ]);
    expect(skaffold.manifests.kustomize.paths).toEqual(["kustomize/base"]);
    expect(skaffold.profiles.map((p) => [p.name, p.manifests.kustomize.paths])).toEqual(
      OVERLAYS.map((o) => [o, [`kustomize/overlays/${o}`]]),
    );
    expect(readdirSync(join(ROOT, "kustomize/overlays")).sort()).toEqual([...OVERLAYS].sort());
  });
});

describe("kustomize", () => {
  beforeAll(() => {
    const kubectl = findKubectl();
    for (const t of TREES) rendered.set(t, render(kubectl, t));
  });

  describe.each(TREES)("%s", (tree) => {
    it("renders, in namespace chaos-monkey under Pod Security restricted", () => {
      const ns = ofKind(tree, "Namespace");
      expect(ns.map((n) => n.metadata.name)).toEqual([NS]);
      expect(ns[0]?.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
      expect(ofKind(tree, "ServiceAccount").map((s) => s.metadata)).toMatchObject([
        { name: "chaos-monkey", namespace: NS },
      ]);
    });

    it("grants exactly the API calls the code makes, and no wildcard, secret or exec", () => {
      for (const role of [...ofKind<Role>(tree, "Role"), ...ofKind<Role>(tree, "ClusterRole")])
        for (const rule of role.rules ?? []) {
          const words = [
            ...(rule.verbs ?? []),
            ...(rule.resources ?? []),
            ...(rule.apiGroups ?? []),
            ...(rule.resourceNames ?? []),
          ];
          expect(
            words.filter((w) => w.includes("*")),
            role.metadata.name,
          ).toEqual([]);
          expect(rule.nonResourceURLs, role.metadata.name).toBeUndefined();
          for (const forbidden of ["secrets", "pods/exec", "pods/attach", "pods/portforward"])
            expect(rule.resources ?? [], role.metadata.name).not.toContain(forbidden);
        }
      for (const b of [
        ...ofKind<Binding>(tree, "RoleBinding"),
        ...ofKind<Binding>(tree, "ClusterRoleBinding"),
      ])
        expect(b.subjects, b.metadata.name).toEqual([
          { kind: "ServiceAccount", name: "chaos-monkey", namespace: NS },
        ]);
      expect(grants(tree)).toEqual([...EXPECTED_GRANTS[tree]].sort());
    });

    it("reads workloads only through watches: list and watch, never get", () => {
      const workloads = grants(tree).filter((g) => / apps\//.test(g));
      expect(workloads.length).toBeGreaterThan(0);
      expect(workloads.filter((g) => !/ (list|watch)$/.test(g))).toEqual([]);
    });

    it("gives volume rights only for volume targets, claims and volumes in separate roles", () => {
      const config = loadConfig(embeddedConfig(tree));
      if (!config.ok) throw new Error(config.errors.join("\n"));
      const kinds = new Set(config.config.targets.map((t) => t.kind));
      const claimGrants = grants(tree).filter((g) => / core\/persistentvolumeclaims /.test(g));
      const volumeGrants = grants(tree).filter((g) => / core\/persistentvolumes /.test(g));
      // A PersistentVolume target follows the claims bound to its volumes, so it needs both.
      expect(claimGrants.length > 0, "claim rights").toBe(
        kinds.has("PersistentVolumeClaim") || kinds.has("PersistentVolume"),
      );
      expect(volumeGrants.length > 0, "volume rights").toBe(kinds.has("PersistentVolume"));
      for (const role of [...ofKind<Role>(tree, "Role"), ...ofKind<Role>(tree, "ClusterRole")]) {
        const resources = new Set((role.rules ?? []).flatMap((r) => r.resources ?? []));
        expect(
          resources.has("persistentvolumes") && resources.has("persistentvolumeclaims"),
          `${role.metadata.name} grants both claims and volumes`,
        ).toBe(false);
      }
    });

    it("writes ConfigMaps and Leases only in its own namespace, get and update only by name", () => {
      const own = grants(tree).filter((g) =>
        / (core\/configmaps|coordination\.k8s\.io\/leases) /.test(g),
      );
      expect(own.filter((g) => !g.startsWith(`ns:${NS} `))).toEqual([]);
      expect(own.filter((g) => !/ create$/.test(g) && !/ \[[^\]]+\]$/.test(g))).toEqual([]);
      expect(own.filter((g) => g.includes("core/configmaps"))).toEqual([...JOURNAL].sort());
      // A ClusterRole, even one bound only in the monkey's namespace, is not where these belong.
      for (const role of ofKind<Role>(tree, "ClusterRole"))
        for (const rule of role.rules ?? [])
          for (const r of ["configmaps", "leases"])
            expect(rule.resources ?? [], role.metadata.name).not.toContain(r);
    });

    it("admits ingress to the monkey's pod only on the metrics port, and restricts no egress", () => {
      type Policy = {
        spec: {
          podSelector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
          policyTypes?: string[];
          ingress?: { from?: unknown[]; ports?: { protocol?: string; port?: number | string }[] }[];
          egress?: unknown[];
        };
      };
      const policies = ofKind<Policy>(tree, "NetworkPolicy");
      expect(policies.map((p) => [p.metadata.name, p.metadata.namespace])).toEqual([
        ["chaos-monkey", NS],
      ]);
      const [policy] = policies;
      const { kind, pod, labels } = workload(tree);
      const selector = policy!.spec.podSelector;
      expect(selector.matchExpressions).toBeUndefined();
      expect(Object.keys(selector.matchLabels ?? {}).length).toBeGreaterThan(0);
      expect(labels, "the policy selects the monkey's pod").toMatchObject(
        selector.matchLabels ?? {},
      );
      expect(policy!.spec.policyTypes).toEqual(["Ingress"]);
      expect(policy!.spec.egress).toBeUndefined();
      // One rule, from anywhere (no `from`: Prometheus may scrape from any namespace), one port.
      expect(policy!.spec.ingress).toEqual([{ ports: [{ protocol: "TCP", port: METRICS_PORT }] }]);
      if (kind === "Deployment")
        expect(pod.containers[0]?.ports).toEqual([
          { name: "http-metrics", containerPort: METRICS_PORT, protocol: "TCP" },
        ]);
    });

    it("runs one pod meeting Pod Security restricted with a read-only root", () => {
      const { kind, pod } = workload(tree);
      expectRestricted(pod);
      expectWiredToConfig(tree, pod);
      expect(pod.terminationGracePeriodSeconds).toBe(30);
      expect(pod.containers[0]?.args?.[0]).toBe(kind === "CronJob" ? "once" : "run");
    });

    it("embeds a config that the monkey accepts", () => {
      const result = loadConfig(embeddedConfig(tree));
      expect(result.ok ? [] : result.errors).toEqual([]);
    });
  });

  it("base: the Deployment probes /healthz and /readyz, the Service exposes http-metrics", () => {
    const { pod } = workload("base");
    expect(pod.containers[0]?.livenessProbe?.httpGet?.path).toBe("/healthz");
    expect(pod.containers[0]?.readinessProbe?.httpGet?.path).toBe("/readyz");
    const [svc] = ofKind<Obj & { spec: { ports: { name: string; port: number }[] } }>(
      "base",
      "Service",
    );
    expect(svc?.metadata.name).toBe("chaos-monkey-metrics");
    expect(svc?.spec.ports).toMatchObject([{ name: "http-metrics", port: 8080 }]);
    const config = loadConfig(embeddedConfig("base"));
    expect(config.ok && config.config.dryRun).toBe(true);
  });

  it("namespaced: no cluster-wide pod rights; targets list only the namespaces granted", () => {
    const clusterWide = grants("namespaced").filter((g) => g.startsWith("cluster "));
    expect(clusterWide.every((g) => /^cluster core\/namespaces \w+ \[/.test(g))).toBe(true);
    const granted = new Set(
      grants("namespaced")
        .filter((g) => g.includes(" core/pods delete"))
        .map((g) => g.split(" ")[0]!.replace(/^ns:/, "")),
    );
    const config = loadConfig(embeddedConfig("namespaced"));
    if (!config.ok) throw new Error(config.errors.join("\n"));
    for (const t of config.config.targets) {
      expect(t.selector.namespaces.length, t.name).toBeGreaterThan(0);
      for (const ns of t.selector.namespaces) expect(granted, `${t.name}: ${ns}`).toContain(ns);
    }
  });

  it("cluster: a claim target and a volume target are configured", () => {
    const config = loadConfig(embeddedConfig("cluster"));
    expect(config.ok && config.config.targets.map((t) => t.kind).sort()).toEqual([
      "PersistentVolume",
      "PersistentVolumeClaim",
      "Pod",
    ]);
  });

  it("cronjob: a CronJob runs `once`, never overlapping, never retried; no Deployment or Service", () => {
    const [cron] = ofKind<CronJob>("cronjob", "CronJob");
    expect(cron?.spec.concurrencyPolicy).toBe("Forbid");
    expect(cron?.spec.jobTemplate.spec.backoffLimit).toBe(0);
    expect(cron?.spec.jobTemplate.spec.template.spec.restartPolicy).toBe("Never");
    expect(ofKind("cronjob", "Deployment")).toEqual([]);
    expect(ofKind("cronjob", "Service")).toEqual([]);
  });

  it("dry-run: --dry-run on the command line, whatever the config says", () => {
    expect(workload("dry-run").pod.containers[0]?.args).toContain("--dry-run");
  });

  it("monitoring: the ServiceMonitor scrapes the metrics Service's port", () => {
    type Monitor = {
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
    };
    const [sm] = ofKind<Monitor>("monitoring", "ServiceMonitor");
    const [svc] = ofKind<{ spec: { ports: { name: string }[] } }>("monitoring", "Service");
    expect(svc?.metadata.labels).toMatchObject(sm?.spec.selector.matchLabels ?? { missing: "" });
    expect(svc?.spec.ports.map((p) => p.name)).toEqual(sm?.spec.endpoints.map((e) => e.port));
  });

  it("monitoring: the alert rules use only metrics the monkey exports", async () => {
    type Rules = { spec: { groups: { rules: { expr: string }[] }[] } };
    const rules = ofKind<Rules>("monitoring", "PrometheusRule");
    expect(rules).toHaveLength(1);
    const used = rules[0]!.spec.groups.flatMap((g) =>
      g.rules.flatMap((r) => r.expr.match(/chaos_monkey_\w+/g) ?? []),
    );
    // A histogram is read as its _bucket, _sum and _count series.
    const exported = (await createMetrics({ version: "test" }).registry.getMetricsAsJSON()).flatMap(
      (m) =>
        (String(m.type) === "histogram" ? ["_bucket", "_sum", "_count"] : [""]).map(
          (s) => m.name + s,
        ),
    );
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(exported, name).toContain(name);
  });
});
