// SPEC §2 selection promises on the real control plane (issue 15): each selector key, the kill
// modes and the caps, judged by the evictions the API server logged for the monkey's identity.
import type * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { evictionsBy } from "../support/audit.js";
import type { Kube } from "../support/kube.js";
import {
  connect,
  createNamespace,
  deleteNamespace,
  deploymentReady,
  isPodReady,
} from "../support/kube.js";
import type { Identity } from "../support/monkey.js";
import {
  asIdentity,
  chaosConfig,
  deleteIdentityBindings,
  monkeyIdentity,
  runMonkey,
} from "../support/monkey.js";
import { deployment, pod, statefulSet } from "../support/objects.js";

let kube: Kube;
let ns: string;
let selfNs: string;
let id: Identity;
let audit: string;

beforeAll(async () => {
  kube = connect(inject("kubeconfig"));
  audit = inject("auditLog");
  ns = await createNamespace(kube, "e2e-psel");
  selfNs = await createNamespace(kube, "e2e-psel-self");
  id = await monkeyIdentity(kube, selfNs);
});

afterAll(async () => {
  for (const n of [ns, selfNs]) await deleteNamespace(kube, n);
  await deleteIdentityBindings(kube, selfNs);
});

/** Caps loose enough not to bind unless a test says otherwise. */
const LOOSE = { maxPerOwner: 50, maxKillsPerRound: 50 };

interface Round {
  target: string;
  skipped: string | null;
  victims: { namespace: string; name: string; result: string; outcome: string | null }[];
}

/** Evictions of pods in `ns` by the monkey, in the order the API server logged them. */
const evicted = (): string[] =>
  evictionsBy(audit, id.username).filter((k) => k.startsWith(`${ns}/`));

async function once(config: string, ...extra: string[]) {
  const r = await runMonkey([
    "once",
    "--config",
    config,
    ...asIdentity(id, selfNs),
    "--output",
    "json",
    ...extra,
  ]);
  const rounds = r.code === 0 || r.code === 3 ? (JSON.parse(r.stdout) as Round[]) : [];
  return { ...r, rounds };
}

/** Waits until the API server's audit log shows exactly `count` more evictions than `before`. */
async function newEvictions(before: number, count: number): Promise<string[]> {
  // The audit backend writes in batches: poll until the log has caught up with what once did.
  await expect.poll(() => evicted().length - before, { timeout: 10_000 }).toBe(count);
  await new Promise((r) => setTimeout(r, 500)); // and nothing more arrives behind them
  const all = evicted();
  expect(all.length - before).toBe(count);
  return all.slice(before).sort();
}

const keysOf = (rounds: Round[], target: string): string[] =>
  (rounds.find((r) => r.target === target)?.victims ?? [])
    .map((v) => `${v.namespace}/${v.name}`)
    .sort();

async function podsOf(labelSelector: string): Promise<k8s.V1Pod[]> {
  const list = await kube.core.listNamespacedPod({ namespace: ns, labelSelector });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

/** Waits until `n` pods matching `labelSelector` are Ready and none is terminating. */
async function readyPods(labelSelector: string, n: number): Promise<k8s.V1Pod[]> {
  await expect
    .poll(
      async () => {
        const all = (await kube.core.listNamespacedPod({ namespace: ns, labelSelector })).items;
        return (
          all.filter((p) => isPodReady(p) && !p.metadata?.deletionTimestamp).length === n &&
          all.length === n
        );
      },
      { timeout: 60_000, interval: 250 },
    )
    .toBe(true);
  return podsOf(labelSelector);
}

const podTarget = (
  name: string,
  selector: Record<string, unknown>,
  more: Record<string, unknown> = {},
) => ({
  name,
  kind: "Pod",
  schedule: "@hourly",
  selector: { namespaces: [ns], ...selector },
  mode: "all",
  recovery: { timeout: "45s" },
  ...more,
});

const key = (p: k8s.V1Pod) => `${ns}/${p.metadata?.name ?? ""}`;

/** One workload that each selector should pick and its decoys; what each target must kill. */
async function selectorWorld() {
  const deps: k8s.V1Deployment[] = [
    deployment(ns, "spread", { replicas: 4, labels: { group: "field" } }),
    deployment(ns, "annot-yes", {
      labels: { group: "annot" },
      annotations: { team: "payments" },
    }),
    deployment(ns, "annot-no", { labels: { group: "annot" }, annotations: { team: "search" } }),
    deployment(ns, "names-keep", { labels: { group: "names" } }),
    deployment(ns, "names-keep-canary-1", { labels: { group: "names" } }),
    deployment(ns, "names-other", { labels: { group: "names" } }),
    deployment(ns, "owners-dep", { labels: { group: "owners" } }),
  ];
  for (const d of deps) await kube.apps.createNamespacedDeployment({ namespace: ns, body: d });
  await kube.apps.createNamespacedStatefulSet({
    namespace: ns,
    body: statefulSet(ns, "owners-sts", { replicas: 2, labels: { group: "owners" } }),
  });
  await kube.core.createNamespacedPod({
    namespace: ns,
    body: pod(ns, "orphan-bare", { labels: { group: "orphan" } }),
  });
  for (const d of deps)
    await deploymentReady(kube, ns, d.metadata?.name ?? "", d.spec?.replicas ?? 1);
  await readyPods("app=owners-sts", 2);
  await readyPods("group=orphan", 1);

  const spread = await podsOf("app=spread");
  const node = spread[0]?.spec?.nodeName ?? "";
  expect(node).not.toBe("");
  const onNode = spread
    .filter((p) => p.spec?.nodeName === node)
    .map(key)
    .sort();
  const expected = {
    field: onNode,
    annot: (await podsOf("app=annot-yes")).map(key),
    names: (await podsOf("app=names-keep")).map(key),
    owners: (await podsOf("app=owners-sts")).map(key).sort(),
    orphans: [`${ns}/orphan-bare`],
  };

  return { node, expected };
}

describe("selectors on a live cluster (SPEC §2 selector)", () => {
  it("fieldSelector, annotations, includeNames/excludeNames, ownerKinds and includeOrphans each pick exactly their pods", async () => {
    const { node, expected } = await selectorWorld();
    const config = chaosConfig(
      [
        podTarget("field", {
          labelSelector: "group=field",
          fieldSelector: `spec.nodeName=${node}`,
        }),
        podTarget("annot", { labelSelector: "group=annot", annotations: { team: "payments" } }),
        podTarget("names", {
          labelSelector: "group=names",
          includeNames: ["^names-keep"],
          excludeNames: ["-canary-"],
        }),
        podTarget("owners", { labelSelector: "group=owners", ownerKinds: ["StatefulSet"] }),
        // An orphan never comes back: its recovery can only time out (exit 3), but it is killed.
        podTarget(
          "orphans",
          { labelSelector: "group=orphan", includeOrphans: true },
          { recovery: { timeout: "2s" } },
        ),
      ],
      { safety: LOOSE },
    );
    const before = evicted().length;
    const r = await once(config);
    expect(r.code, r.stderr).toBe(3);
    for (const [target, want] of Object.entries(expected))
      expect(keysOf(r.rounds, target), target).toEqual(want);
    for (const round of r.rounds.filter((x) => x.target !== "orphans"))
      for (const v of round.victims)
        expect(v.outcome, `${round.target} ${v.name}`).toBe("recovered");
    expect(r.rounds.find((x) => x.target === "orphans")?.victims[0]?.outcome).toBe("timeout");
    // The API server's side: exactly these pods were evicted, nothing else in the namespace.
    const all = Object.values(expected).flat().sort();
    expect(await newEvictions(before, all.length)).toEqual(all);
  }, 240_000);

  it("minAge: pods younger than it are not eligible (plan's eligible count), older ones are", async () => {
    await kube.apps.createNamespacedDeployment({
      namespace: ns,
      body: deployment(ns, "young", { replicas: 3 }),
    });
    await deploymentReady(kube, ns, "young", 3);
    const config = chaosConfig(
      [
        podTarget("young", { labelSelector: "app=young", minAge: "1h" }),
        podTarget("aged", { labelSelector: "app=young", minAge: "1s" }),
      ],
      { dryRun: true },
    );
    // Every pod is older than 1 s once Ready (KWOK readies a pod 1–3 s after scheduling).
    const r = await runMonkey([
      "plan",
      "--config",
      config,
      ...asIdentity(id, selfNs),
      "--count",
      "1",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const section = (t: string) =>
      r.stdout.split("\n\n").find((s) => s.startsWith(`target ${t}:`)) ?? "";
    expect(section("young")).toMatch(/eligible now: 0 \(excluded: ([^)]*, )?too_young 3[,)]/);
    expect(section("aged")).toMatch(/eligible now: 3\b/);
  }, 120_000);
});

describe("kill modes and caps on a live cluster (SPEC §2 mode/value, safety)", () => {
  const modeTarget = (mode: string, value?: number) => ({
    ...podTarget("five", { labelSelector: "app=five" }),
    mode,
    ...(value === undefined ? {} : { value }),
  });

  beforeAll(async () => {
    await kube.apps.createNamespacedDeployment({
      namespace: ns,
      body: deployment(ns, "five", { replicas: 5 }),
    });
    await kube.apps.createNamespacedDeployment({
      namespace: ns,
      body: deployment(ns, "three", { replicas: 3 }),
    });
    await deploymentReady(kube, ns, "five", 5);
    await deploymentReady(kube, ns, "three", 3);
  }, 120_000);

  async function roundOf(config: string, expected: number, ...extra: string[]): Promise<string[]> {
    await readyPods("app=five", 5);
    await readyPods("app=three", 3);
    const before = evicted().length;
    const r = await once(config, ...extra);
    expect(r.code, r.stderr).toBe(0);
    const victims = r.rounds
      .flatMap((x) => x.victims.map((v) => `${v.namespace}/${v.name}`))
      .sort();
    expect(victims).toHaveLength(expected);
    expect(await newEvictions(before, expected)).toEqual(victims);
    return victims;
  }

  it("fixed: exactly value victims", async () => {
    await roundOf(chaosConfig([modeTarget("fixed", 2)], { safety: LOOSE }), 2);
  }, 120_000);

  it("fixed-percent: floor(n·value/100) victims (50 % of 5 is 2)", async () => {
    await roundOf(chaosConfig([modeTarget("fixed-percent", 50)], { safety: LOOSE }), 2);
  }, 120_000);

  it("random-max-percent: at most floor(n·value/100), the number plan predicts for the seed", async () => {
    const config = chaosConfig([modeTarget("random-max-percent", 60)], { safety: LOOSE });
    await readyPods("app=five", 5);
    // Find a seed whose draw is not zero (a zero draw is a no_candidates skip, proven elsewhere).
    for (const seed of ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"]) {
      const plan = await runMonkey([
        "plan",
        "--config",
        config,
        ...asIdentity(id, selfNs),
        "--seed",
        seed,
        "--count",
        "1",
      ]);
      expect(plan.code, plan.stderr).toBe(0);
      const line = new RegExp(`victims with seed "${seed}": (.*)`).exec(plan.stdout)?.[1] ?? "none";
      const predicted = line.startsWith("none") ? [] : line.split(" (")[0]!.split(", ").sort();
      expect(predicted.length).toBeLessThanOrEqual(3);
      if (predicted.length === 0) continue;
      expect(await roundOf(config, predicted.length, "--seed", seed)).toEqual(predicted);
      return;
    }
    throw new Error("no seed among 8 drew a victim");
  }, 240_000);

  it("maxPerOwner binds: mode all on 5 replicas with maxPerOwner 2 evicts 2", async () => {
    await roundOf(chaosConfig([modeTarget("all")], { safety: { ...LOOSE, maxPerOwner: 2 } }), 2);
  }, 120_000);

  it("maxKillsPerRound binds across owners: mode all on 5 + 3 pods with a cap of 3 evicts 3", async () => {
    const config = chaosConfig([podTarget("both", { labelSelector: "app in (five,three)" })], {
      safety: { maxPerOwner: 50, maxKillsPerRound: 3 },
    });
    await roundOf(config, 3);
  }, 120_000);
});
