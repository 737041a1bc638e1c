// SPEC §7 invariant 1, by property: whatever the cluster and the config, nothing outside the
// target's selector, in an excluded or opted-out namespace, opted out itself, or the monkey's own
// pod is ever picked. The oracle below is written from the SPEC with plain code over a small
// vocabulary; it shares nothing with eligibility.ts or labels.ts but the candidate shape.
import fc from "fast-check";
import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import type { Mode, Safety, Target, TargetKind } from "../config/types.js";
import type { Candidate, NamespaceInfo, Self } from "./candidate.js";
import { MINUTE, NOW, safety as safetyOf, selector, target as targetOf } from "./fixtures.js";
import { selectVictims } from "./select.js";
import type { Selection } from "./select.js";

type Labels = Readonly<Record<string, string>>;
type Pred<T> = (x: T) => boolean;
/** A selector as the config spells it, and what it means, written out by hand. */
type Spelled<T> = readonly [text: string, meaning: Pred<T>];

const has = (l: Labels, k: string): boolean => Object.hasOwn(l, k);

const NAMESPACES = ["shop", "pay", "dev", "kube-system", "chaos", "legacy", "ghost"] as const;
const KINDS: readonly TargetKind[] = ["Pod", "PersistentVolumeClaim", "PersistentVolume"];
const NAMES = ["web-1", "web-2", "web-canary-1", "db-0", "cache-a", "chaos-monkey-0"] as const;
const OPT_OUT_KEYS = ["chaos-monkey.io/exclude", "example.com/skip"] as const;
const OWNER_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "Job"] as const;

const LABEL_SELECTORS: readonly Spelled<Labels>[] = [
  ["app=web", (l) => l["app"] === "web"],
  ["app==db", (l) => l["app"] === "db"],
  ["app!=db", (l) => l["app"] !== "db"],
  ["tier in (web,cache)", (l) => l["tier"] === "web" || l["tier"] === "cache"],
  ["tier notin (db)", (l) => l["tier"] !== "db"],
  ["app.kubernetes.io/name", (l) => has(l, "app.kubernetes.io/name")],
  ["!tier", (l) => !has(l, "tier")],
  [
    "app=web,tier notin (db),app.kubernetes.io/name",
    (l) => l["app"] === "web" && l["tier"] !== "db" && has(l, "app.kubernetes.io/name"),
  ],
  ["", () => true],
];
const NAMESPACE_SELECTORS: readonly Spelled<Labels>[] = [
  ["chaos=enabled", (l) => l["chaos"] === "enabled"],
  ["chaos!=disabled", (l) => l["chaos"] !== "disabled"],
  ["env in (prod,staging)", (l) => l["env"] === "prod" || l["env"] === "staging"],
  ["env notin (prod)", (l) => l["env"] !== "prod"],
  ["chaos", (l) => has(l, "chaos")],
  ["!env", (l) => !has(l, "env")],
  ["chaos=enabled,env=prod", (l) => l["chaos"] === "enabled" && l["env"] === "prod"],
];
type Fields = Readonly<Record<string, string | undefined>>;
const FIELD_SELECTORS: readonly Spelled<Fields>[] = [
  ["spec.nodeName=node-1", (f) => f["spec.nodeName"] === "node-1"],
  ["spec.nodeName==node-2", (f) => f["spec.nodeName"] === "node-2"],
  ["spec.nodeName!=node-2", (f) => f["spec.nodeName"] !== "node-2"],
  ["spec.nodeName=", (f) => f["spec.nodeName"] === undefined],
];
const INCLUDE_NAMES: readonly Spelled<string>[] = [
  ["^web-", (n) => n.startsWith("web-")],
  ["db", (n) => n.includes("db")],
  ["-1$", (n) => n.endsWith("-1")],
];
const EXCLUDE_NAMES: readonly Spelled<string>[] = [
  ["-canary-", (n) => n.includes("-canary-")],
  ["^cache", (n) => n.startsWith("cache")],
];

/** Everything one run is made of, with the selector spelled both ways. */
interface World {
  readonly cluster: ReadonlyMap<string, NamespaceInfo>;
  readonly candidates: readonly Candidate[];
  readonly kind: TargetKind;
  readonly namespaces: readonly string[];
  readonly namespaceSelector: Spelled<Labels> | undefined;
  readonly labelSelector: Spelled<Labels> | undefined;
  readonly fieldSelector: Spelled<Fields> | undefined;
  readonly annotations: Labels;
  readonly includeNames: readonly Spelled<string>[];
  readonly excludeNames: readonly Spelled<string>[];
  readonly ownerKinds: readonly string[];
  readonly includeOrphans: boolean;
  readonly minAgeMs: number;
  readonly mode: Mode;
  readonly value: number;
  readonly safety: Safety;
  readonly self: Self;
  readonly sick: readonly string[];
  readonly seed: string;
}

// --- generators -----------------------------------------------------------------------------

const sometimes = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
const mostlyEmpty = <T>(xs: readonly T[]): fc.Arbitrary<T[]> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant<T[]>([]) },
    { weight: 1, arbitrary: fc.subarray([...xs]) },
  );

/** The benign value most of the time, so that enough objects survive every rule to be picked. */
const usually = <T>(benign: T, ...others: T[]): fc.Arbitrary<T> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constant(benign) },
    { weight: 1, arbitrary: fc.constantFrom(...others) },
  );

const namespaceInfo = (name: string): fc.Arbitrary<NamespaceInfo> =>
  fc.record({
    name: fc.constant(name),
    labels: fc.dictionary(
      fc.constantFrom("chaos", "env"),
      fc.constantFrom("enabled", "disabled", "prod", "staging"),
    ),
    annotations: fc.oneof(
      { weight: 3, arbitrary: fc.constant({}) },
      {
        weight: 1,
        arbitrary: fc.dictionary(
          fc.constantFrom(...OPT_OUT_KEYS, "team"),
          fc.constantFrom("true", "false"),
        ),
      },
    ),
  });

// "ghost" is never in the cache: its objects exist, the namespace's watch has not caught up.
const cluster: fc.Arbitrary<ReadonlyMap<string, NamespaceInfo>> = fc
  .tuple(
    ...NAMESPACES.map((ns) =>
      ns === "ghost"
        ? fc.constant(undefined)
        : fc.option(namespaceInfo(ns), { nil: undefined, freq: 8 }),
    ),
  )
  .map((infos) => new Map(infos.flatMap((i) => (i ? [[i.name, i] as const] : []))));

const ownerRef = fc
  .record({
    kind: fc.constantFrom(...OWNER_KINDS),
    name: fc.constantFrom("a", "b"),
    ns: fc.constantFrom(...NAMESPACES),
  })
  .map(({ kind, name, ns }) => ({ kind, name, namespace: ns, uid: `${kind}/${ns}/${name}` }));

const rawCandidate = (kind: TargetKind) =>
  fc.record({
    kind: usually(kind, ...KINDS),
    namespace: fc.oneof(fc.constantFrom("shop", "pay", "dev"), fc.constantFrom(...NAMESPACES)),
    name: fc.constantFrom(...NAMES),
    labels: fc.dictionary(
      fc.constantFrom("app", "tier", "app.kubernetes.io/name"),
      fc.constantFrom("web", "db", "cache"),
    ),
    annotations: fc.oneof(
      fc.dictionary(fc.constant("team"), fc.constantFrom("payments", "search")),
      fc.dictionary(
        fc.constantFrom(...OPT_OUT_KEYS, "team"),
        fc.constantFrom("true", "false", "payments", "search"),
      ),
    ),
    ageMinutes: usually(60, 0, 5, 10),
    deleting: usually(false, true),
    phase: usually<string | undefined>("Running", "Pending", "Succeeded", "Failed", undefined),
    owner: fc.option(ownerRef, { nil: undefined, freq: 5 }),
    nodeName: fc.constantFrom("node-1", "node-2", undefined),
    bound: usually(true, false),
  });

/** Objects mostly, not only, of the target's kind. */
const candidates = (kind: TargetKind): fc.Arbitrary<Candidate[]> =>
  fc.array(rawCandidate(kind), { maxLength: 30, size: "medium" }).map((raws) =>
    raws.map((r, i): Candidate => {
      const volume = r.kind === "PersistentVolume";
      return {
        kind: r.kind,
        namespace: volume ? "" : r.namespace,
        name: r.name,
        uid: `uid-${i}`,
        labels: r.labels,
        annotations: r.annotations,
        createdAtMs: NOW - r.ageMinutes * MINUTE,
        deleting: r.deleting,
        // Volumes: a bound one is Bound; claims are Bound unless the generator says otherwise.
        phase: volume
          ? r.bound
            ? "Bound"
            : "Available"
          : r.kind === "PersistentVolumeClaim"
            ? r.bound
              ? "Bound"
              : "Pending"
            : r.phase,
        // A volume is guarded by its claim's namespace, and by none while unbound.
        guardNamespaces: volume ? (r.bound ? [r.namespace] : []) : [r.namespace],
        owner: r.owner,
        fields: { "spec.nodeName": r.nodeName, "metadata.name": r.name },
      };
    }),
  );

const modeAndValue: fc.Arbitrary<{ mode: Mode; value: number }> = fc.oneof(
  fc.record({ mode: fc.constant<Mode>("one"), value: fc.constant(1) }),
  fc.record({ mode: fc.constant<Mode>("all"), value: fc.constant(1) }),
  fc.record({ mode: fc.constant<Mode>("fixed"), value: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ mode: fc.constant<Mode>("fixed-percent"), value: fc.integer({ min: 1, max: 100 }) }),
  fc.record({
    mode: fc.constant<Mode>("random-max-percent"),
    value: fc.integer({ min: 1, max: 100 }),
  }),
);

const safetyArb: fc.Arbitrary<Safety> = fc
  .record({
    excludedNamespaces: fc.oneof(
      { weight: 2, arbitrary: fc.constant(["kube-system"]) },
      { weight: 1, arbitrary: fc.subarray([...NAMESPACES]) },
    ),
    optOutAnnotation: fc.constantFrom(...OPT_OUT_KEYS),
    maxKillsPerRound: fc.integer({ min: 0, max: 12 }),
    maxPerOwner: fc.integer({ min: 1, max: 3 }),
    requireHealthy: fc.boolean(),
  })
  .map((s) => safetyOf(s));

const world: fc.Arbitrary<World> = fc
  .record({
    cluster,
    kind: fc.constantFrom(...KINDS),
    namespaces: mostlyEmpty(NAMESPACES),
    namespaceSelector: sometimes(fc.constantFrom(...NAMESPACE_SELECTORS)),
    labelSelector: sometimes(fc.constantFrom(...LABEL_SELECTORS)),
    fieldSelector: sometimes(fc.constantFrom(...FIELD_SELECTORS)),
    annotations: fc.oneof(
      { weight: 3, arbitrary: fc.constant({}) },
      {
        weight: 1,
        arbitrary: fc.dictionary(fc.constant("team"), fc.constantFrom("payments", "search")),
      },
    ),
    includeNames: mostlyEmpty(INCLUDE_NAMES),
    excludeNames: mostlyEmpty(EXCLUDE_NAMES),
    ownerKinds: mostlyEmpty(OWNER_KINDS),
    includeOrphans: fc.boolean(),
    minAgeMs: fc.constantFrom(0, 10 * MINUTE),
    modeAndValue,
    safety: safetyArb,
    self: fc.record({
      namespace: fc.constantFrom("chaos", "shop"),
      podName: fc.constantFrom("chaos-monkey-0", "web-1", undefined),
    }),
    sick: mostlyEmpty(NAMES),
    seed: fc.integer().map(String),
  })
  .chain(({ modeAndValue: mv, ...w }) =>
    candidates(w.kind).map((cs): World => ({ ...w, ...mv, candidates: cs })),
  );

function targetFor(w: World): Target {
  const text = <T>(s: Spelled<T> | undefined) => s?.[0];
  return targetOf({
    kind: w.kind,
    mode: w.mode,
    value: w.value,
    selector: selector({
      namespaces: w.namespaces,
      namespaceSelector: text(w.namespaceSelector),
      labelSelector: text(w.labelSelector),
      fieldSelector: text(w.fieldSelector),
      annotations: w.annotations,
      includeNames: w.includeNames.map(([re]) => new RegExp(re)),
      excludeNames: w.excludeNames.map(([re]) => new RegExp(re)),
      ownerKinds: w.ownerKinds,
      includeOrphans: w.includeOrphans,
      minAgeMs: w.minAgeMs,
    }),
  });
}

// --- the oracle -----------------------------------------------------------------------------

/** The namespaces whose exclusion and opt-out protect an object: its own, or its claim's. */
const protectingNamespaces = (c: Candidate): readonly string[] =>
  c.kind === "PersistentVolume" ? c.guardNamespaces : [c.namespace];

const isOptOut = (annotations: Labels, w: World): boolean =>
  annotations[w.safety.optOutAnnotation] === "true";

/** Each SPEC §2 eligibility rule, as its own named check. */
const CHECKS: readonly (readonly [string, (c: Candidate, w: World) => boolean])[] = [
  ["is of the target's kind", (c, w) => c.kind === w.kind],
  ["is not being deleted", (c) => !c.deleting],
  [
    "is not in an excluded namespace",
    (c, w) => protectingNamespaces(c).every((ns) => !w.safety.excludedNamespaces.includes(ns)),
  ],
  [
    "is not in the monkey's namespace",
    (c, w) => protectingNamespaces(c).every((ns) => ns !== w.self.namespace),
  ],
  ["is not opted out", (c, w) => !isOptOut(c.annotations, w)],
  [
    "is in a known namespace that is not opted out",
    (c, w) =>
      protectingNamespaces(c).every((ns) => {
        const info = w.cluster.get(ns);
        return info !== undefined && !isOptOut(info.annotations, w);
      }),
  ],
  [
    "is not the monkey's own pod",
    (c, w) => !(c.kind === "Pod" && c.namespace === w.self.namespace && c.name === w.self.podName),
  ],
  [
    "is in selector.namespaces",
    (c, w) =>
      c.kind === "PersistentVolume" ||
      w.namespaces.length === 0 ||
      w.namespaces.includes(c.namespace),
  ],
  [
    "matches namespaceSelector",
    (c, w) => {
      const sel = w.namespaceSelector;
      if (sel === undefined) return true;
      const guards = protectingNamespaces(c);
      return guards.length > 0 && guards.every((ns) => sel[1](w.cluster.get(ns)?.labels ?? {}));
    },
  ],
  [
    "matches labelSelector",
    (c, w) => w.labelSelector === undefined || w.labelSelector[1](c.labels),
  ],
  [
    "matches fieldSelector",
    (c, w) => w.fieldSelector === undefined || w.fieldSelector[1](c.fields),
  ],
  [
    "has every selector annotation",
    (c, w) => Object.entries(w.annotations).every(([k, v]) => c.annotations[k] === v),
  ],
  [
    "matches includeNames",
    (c, w) => w.includeNames.length === 0 || w.includeNames.some(([, m]) => m(c.name)),
  ],
  ["matches no excludeNames", (c, w) => !w.excludeNames.some(([, m]) => m(c.name))],
  ["is a Running pod", (c) => c.kind !== "Pod" || c.phase === "Running"],
  ["is a Bound volume or claim", (c) => c.kind === "Pod" || c.phase === "Bound"],
  ["is at least minAge old", (c, w) => NOW - c.createdAtMs >= w.minAgeMs],
  [
    "has an owner unless includeOrphans",
    (c, w) => c.kind !== "Pod" || c.owner !== undefined || w.includeOrphans,
  ],
  [
    "has an owner of an ownerKinds kind",
    (c, w) =>
      c.kind !== "Pod" ||
      c.owner === undefined ||
      w.ownerKinds.length === 0 ||
      w.ownerKinds.includes(c.owner.kind),
  ],
];

const brokenRules = (c: Candidate, w: World): string[] =>
  CHECKS.filter(([, ok]) => !ok(c, w)).map(([name]) => name);

// --- the property ---------------------------------------------------------------------------

const healthyIn = (w: World) => (c: Candidate) => !w.sick.includes(c.name);

function select(w: World, order: readonly Candidate[]): Selection {
  return selectVictims({
    candidates: order,
    target: targetFor(w),
    safety: w.safety,
    nowMs: NOW,
    namespaces: w.cluster,
    self: w.self,
    rng: seedrandom(w.seed),
    healthy: healthyIn(w),
  });
}

const uids = (cs: readonly Candidate[]): string[] => cs.map((c) => c.uid);
const ownerOf = (c: Candidate): string => c.owner?.uid ?? `orphan:${c.uid}`;

function countBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}

function checkSafety(w: World, sel: Selection): void {
  for (const v of sel.victims)
    expect({ victim: v.uid, broken: brokenRules(v, w) }).toEqual({ victim: v.uid, broken: [] });
  const eligible = new Set(sel.eligible);
  for (const v of sel.victims) expect(eligible.has(v)).toBe(true);
  expect(new Set(uids(sel.victims)).size).toBe(sel.victims.length);
  expect(sel.victims.length).toBeLessThanOrEqual(w.safety.maxKillsPerRound);
  expect(sel.victims.length).toBeLessThanOrEqual(sel.wanted);
  for (const n of countBy(sel.victims, ownerOf).values())
    expect(n).toBeLessThanOrEqual(w.safety.maxPerOwner);
  if (w.safety.requireHealthy) expect(sel.victims.filter((c) => !healthyIn(w)(c))).toEqual([]);
}

function checkCompleteness(w: World, sel: Selection): void {
  // Nothing the SPEC allows is held back either, so the selector is not merely over-strict.
  const expected = w.candidates.filter((c) => brokenRules(c, w).length === 0);
  expect(uids(sel.eligible).sort()).toEqual(uids(expected).sort());
  const excludedTotal = [...sel.excluded.values()].reduce((a, b) => a + b, 0);
  expect(excludedTotal + sel.eligible.length).toBe(w.candidates.length);
  // Every victim the caps allow is taken when no owner has more eligible objects than maxPerOwner.
  const biggestOwner = Math.max(0, ...countBy(sel.eligible, ownerOf).values());
  if (biggestOwner <= w.safety.maxPerOwner) {
    const unhealthy = sel.drops.filter((d) => d.reason === "unhealthy").length;
    expect(sel.victims.length + unhealthy).toBe(Math.min(sel.wanted, w.safety.maxKillsPerRound));
  }
}

describe("selectVictims (SPEC §7 invariant 1)", () => {
  it("never picks an object the SPEC protects, and is reproducible from the seed", () => {
    let runs = 0;
    let withVictims = 0;
    const decisive = new Set<string>();
    fc.assert(
      fc.property(world, (w) => {
        const sel = select(w, w.candidates);
        runs++;
        if (sel.victims.length > 0) withVictims++;
        for (const c of w.candidates) {
          const broken = brokenRules(c, w);
          if (broken.length === 1) decisive.add(broken[0] ?? "");
        }
        checkSafety(w, sel);
        checkCompleteness(w, sel);
        // Same seed, same cluster, another cache order: the same victims, in the same order.
        const again = select(w, [...w.candidates].reverse());
        expect(uids(again.victims)).toEqual(uids(sel.victims));
        expect(uids(again.drops.map((d) => d.candidate))).toEqual(
          uids(sel.drops.map((d) => d.candidate)),
        );
      }),
      { numRuns: 1000 },
    );
    // The property is not vacuous: many worlds pick victims, and every rule was, for some
    // object, the only thing between it and the eligible set (so dropping any rule would fail).
    // The own-pod rule is the exception: that pod is always in the monkey's namespace too, so it
    // is never the only reason; eligibility.test.ts covers it alone.
    expect(withVictims).toBeGreaterThan(runs / 4);
    const selfRule = "is not the monkey's own pod";
    expect([...decisive].sort()).toEqual(
      CHECKS.map(([name]) => name)
        .filter((name) => name !== selfRule)
        .sort(),
    );
  });
});
