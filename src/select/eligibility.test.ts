import { describe, expect, it } from "vitest";
import { loadConfig } from "../config/load.js";
import type { Selector, Target } from "../config/types.js";
import type { Candidate } from "./candidate.js";
import { exclusionReason, protectionReason } from "./eligibility.js";
import type { EligibilityContext, ExclusionReason } from "./eligibility.js";
import {
  consumer,
  context,
  DEFAULT_NAMESPACES,
  MINUTE,
  MONKEY,
  namespace,
  namespaceMap,
  NOW,
  OPT_OUT,
  owner,
  pod,
  pv,
  pvc,
  safety,
  selector,
  target,
} from "../../test/fixtures/select.js";
import { compileNamePattern as re } from "../selectors/names.js";

const withSelector = (
  s: Partial<Selector>,
  t: Partial<Target> = {},
): Partial<EligibilityContext> => ({
  target: target({ ...t, selector: selector(s) }),
});
const podTarget = (s: Partial<Selector>) => withSelector(s);
const pvTarget = (s: Partial<Selector>) => withSelector(s, { kind: "PersistentVolume" });
const pvcTarget = (s: Partial<Selector>) => withSelector(s, { kind: "PersistentVolumeClaim" });

const optedOutNs = namespaceMap(
  ...DEFAULT_NAMESPACES.values(),
  namespace("legacy", { chaos: "enabled" }, { [OPT_OUT]: "true" }),
  namespace("half", {}, { [OPT_OUT]: "false" }),
);

interface Case {
  readonly name: string;
  readonly candidate: Candidate;
  readonly ctx?: Partial<EligibilityContext>;
  readonly reason: ExclusionReason | undefined;
}

const cases: Case[] = [
  // The baselines: the defaults are eligible, so each case below isolates one rule.
  { name: "a Running owned pod", candidate: pod("web-1"), reason: undefined },
  { name: "a bound claim", candidate: pvc("data-0"), ctx: pvcTarget({}), reason: undefined },
  { name: "a bound volume", candidate: pv("pv-1", "shop"), ctx: pvTarget({}), reason: undefined },

  // kind
  { name: "a claim for a Pod target", candidate: pvc("data-0"), reason: "selector" },
  {
    name: "a volume for a claim target",
    candidate: pv("pv-1", "shop"),
    ctx: pvcTarget({}),
    reason: "selector",
  },
  {
    name: "a pod for a volume target",
    candidate: pod("web-1"),
    ctx: pvTarget({}),
    reason: "selector",
  },

  // deleting
  { name: "a pod being deleted", candidate: pod("web-1", { deleting: true }), reason: "deleting" },
  {
    name: "a volume being deleted",
    candidate: pv("pv-1", "shop", { deleting: true }),
    ctx: pvTarget({}),
    reason: "deleting",
  },

  // self
  {
    name: "the monkey's own pod",
    candidate: pod(MONKEY.podName ?? "", { namespace: MONKEY.namespace }),
    reason: "self",
  },
  {
    name: "a pod with the monkey's name in another namespace is not the monkey",
    candidate: pod(MONKEY.podName ?? ""),
    reason: undefined,
  },

  // excluded namespaces
  {
    name: "a pod in an excluded namespace",
    candidate: pod("coredns-1", { namespace: "kube-system" }),
    reason: "excluded_namespace",
  },
  {
    name: "the monkey's namespace, even when not listed",
    candidate: pod("sidecar-1", { namespace: MONKEY.namespace }),
    ctx: { safety: safety({ excludedNamespaces: [] }) },
    reason: "excluded_namespace",
  },
  {
    name: "the monkey's namespace, even when selector.namespaces names it",
    candidate: pod("sidecar-1", { namespace: MONKEY.namespace }),
    ctx: podTarget({ namespaces: [MONKEY.namespace] }),
    reason: "excluded_namespace",
  },
  {
    name: "a namespace excluded by a custom list",
    candidate: pod("web-1"),
    ctx: { safety: safety({ excludedNamespaces: ["shop"] }) },
    reason: "excluded_namespace",
  },
  {
    name: "kube-system is eligible once the resolved list leaves it out (allowSystemNamespaces)",
    candidate: pod("coredns-1", { namespace: "kube-system" }),
    ctx: { safety: safety({ excludedNamespaces: [] }) },
    reason: undefined,
  },
  {
    name: "a claim in an excluded namespace",
    candidate: pvc("data-0", { namespace: "kube-system" }),
    ctx: pvcTarget({}),
    reason: "excluded_namespace",
  },

  // opt-out
  {
    name: "an opted-out pod",
    candidate: pod("web-1", { annotations: { [OPT_OUT]: "true" } }),
    reason: "opted_out",
  },
  {
    name: 'opt-out only counts when "true"',
    candidate: pod("web-1", { annotations: { [OPT_OUT]: "false" } }),
    reason: undefined,
  },
  {
    name: "a custom opt-out annotation",
    candidate: pod("web-1", { annotations: { "example.com/no-chaos": "true" } }),
    ctx: { safety: safety({ optOutAnnotation: "example.com/no-chaos" }) },
    reason: "opted_out",
  },
  {
    name: "the default annotation means nothing once another is configured",
    candidate: pod("web-1", { annotations: { [OPT_OUT]: "true" } }),
    ctx: { safety: safety({ optOutAnnotation: "example.com/no-chaos" }) },
    reason: undefined,
  },
  {
    name: "a pod in an opted-out namespace",
    candidate: pod("web-1", { namespace: "legacy" }),
    ctx: { namespaces: optedOutNs },
    reason: "opted_out",
  },
  {
    name: 'a namespace annotated "false" is not opted out',
    candidate: pod("web-1", { namespace: "half" }),
    ctx: { namespaces: optedOutNs },
    reason: undefined,
  },
  {
    name: "an opted-out claim",
    candidate: pvc("data-0", { annotations: { [OPT_OUT]: "true" } }),
    ctx: pvcTarget({}),
    reason: "opted_out",
  },
  {
    name: "a pod in a namespace the cache does not know yet (fail closed)",
    candidate: pod("web-1", { namespace: "brand-new" }),
    reason: "opted_out",
  },

  // volumes are guarded by their claim and the pods mounting it (SPEC §7 threat model)
  {
    name: "a claim mounted by an opted-out pod",
    candidate: pvc("data-0", {
      consumers: [consumer("db-0"), consumer("db-1")],
      guardAnnotations: [{}, { [OPT_OUT]: "true" }],
    }),
    ctx: pvcTarget({}),
    reason: "opted_out",
  },
  {
    name: 'a claim whose pods are annotated "false" or otherwise',
    candidate: pvc("data-0", {
      consumers: [consumer("db-0"), consumer("db-1")],
      guardAnnotations: [{ [OPT_OUT]: "false" }, { team: "payments" }],
    }),
    ctx: pvcTarget({}),
    reason: undefined,
  },
  {
    name: "a claim mounted by the monkey's own pod",
    candidate: pvc("state", {
      namespace: "shop",
      consumers: [consumer(MONKEY.podName ?? "", MONKEY.namespace)],
      guardAnnotations: [{}],
    }),
    ctx: pvcTarget({}),
    reason: "self",
  },
  {
    name: "a pod of the monkey's name in another namespace does not protect a claim",
    candidate: pvc("state", {
      consumers: [consumer(MONKEY.podName ?? "")],
      guardAnnotations: [{}],
    }),
    ctx: pvcTarget({}),
    reason: undefined,
  },
  {
    name: "a volume whose claim is opted out",
    candidate: pv("pv-1", "shop", { guardAnnotations: [{ [OPT_OUT]: "true" }] }),
    ctx: pvTarget({}),
    reason: "opted_out",
  },
  {
    name: "a volume whose claim's pod is opted out",
    candidate: pv("pv-1", "shop", {
      consumers: [consumer("db-0")],
      guardAnnotations: [{}, { [OPT_OUT]: "true" }],
    }),
    ctx: pvTarget({}),
    reason: "opted_out",
  },
  {
    name: "a volume whose claim no cache holds yet (fail closed)",
    candidate: pv("pv-1", "shop", { guardAnnotations: [undefined] }),
    ctx: pvTarget({}),
    reason: "opted_out",
  },
  {
    name: "a volume mounted by the monkey's own pod",
    candidate: pv("pv-1", "shop", {
      consumers: [consumer(MONKEY.podName ?? "", MONKEY.namespace)],
      guardAnnotations: [{}, {}],
    }),
    ctx: pvTarget({}),
    reason: "self",
  },
  {
    name: "a custom opt-out key on a claim's pod",
    candidate: pvc("data-0", {
      consumers: [consumer("db-0")],
      guardAnnotations: [{ "example.com/no-chaos": "true" }],
    }),
    ctx: { ...pvcTarget({}), safety: safety({ optOutAnnotation: "example.com/no-chaos" }) },
    reason: "opted_out",
  },

  // selector.namespaces
  {
    name: "in selector.namespaces",
    candidate: pod("web-1"),
    ctx: podTarget({ namespaces: ["pay", "shop"] }),
    reason: undefined,
  },
  {
    name: "outside selector.namespaces",
    candidate: pod("web-1"),
    ctx: podTarget({ namespaces: ["pay"] }),
    reason: "selector",
  },
  {
    name: "a claim outside selector.namespaces",
    candidate: pvc("data-0"),
    ctx: pvcTarget({ namespaces: ["pay"] }),
    reason: "selector",
  },
  {
    name: "selector.namespaces is ignored for a volume",
    candidate: pv("pv-1", "shop"),
    ctx: pvTarget({ namespaces: ["pay"] }),
    reason: undefined,
  },

  // namespaceSelector
  {
    name: "namespaceSelector matches",
    candidate: pod("web-1"),
    ctx: podTarget({ namespaceSelector: "chaos=enabled" }),
    reason: undefined,
  },
  {
    name: "namespaceSelector does not match",
    candidate: pod("web-1", { namespace: "dev" }),
    ctx: podTarget({ namespaceSelector: "chaos=enabled" }),
    reason: "selector",
  },
  {
    name: "namespaceSelector !chaos on an unlabelled namespace",
    candidate: pod("web-1", { namespace: "dev" }),
    ctx: podTarget({ namespaceSelector: "!chaos" }),
    reason: undefined,
  },
  {
    name: "an unknown namespace is excluded even when namespaceSelector would match no labels",
    candidate: pod("web-1", { namespace: "brand-new" }),
    ctx: podTarget({ namespaceSelector: "!chaos" }),
    reason: "opted_out",
  },
  {
    name: "namespaceSelector on a volume reads its claim's namespace",
    candidate: pv("pv-1", "dev"),
    ctx: pvTarget({ namespaceSelector: "chaos=enabled" }),
    reason: "selector",
  },
  {
    name: "namespaceSelector on a volume whose claim's namespace matches",
    candidate: pv("pv-1", "pay"),
    ctx: pvTarget({ namespaceSelector: "chaos=enabled" }),
    reason: undefined,
  },
  {
    name: "namespaceSelector never matches an unbound volume",
    candidate: pv("pv-1", undefined),
    ctx: pvTarget({ namespaceSelector: "!chaos" }),
    reason: "selector",
  },

  // labelSelector
  {
    name: "labelSelector matches",
    candidate: pod("web-1"),
    ctx: podTarget({ labelSelector: "app=web,tier!=db" }),
    reason: undefined,
  },
  {
    name: "labelSelector does not match",
    candidate: pod("web-1"),
    ctx: podTarget({ labelSelector: "app in (db,cache)" }),
    reason: "selector",
  },
  {
    name: "labelSelector on a volume",
    candidate: pv("pv-1", "shop", { labels: { type: "ssd" } }),
    ctx: pvTarget({ labelSelector: "type=hdd" }),
    reason: "selector",
  },

  // fieldSelector
  {
    name: "fieldSelector matches",
    candidate: pod("web-1"),
    ctx: podTarget({ fieldSelector: "spec.nodeName=node-1" }),
    reason: undefined,
  },
  {
    name: "fieldSelector does not match",
    candidate: pod("web-1"),
    ctx: podTarget({ fieldSelector: "spec.nodeName=node-2" }),
    reason: "selector",
  },
  {
    name: "fieldSelector !=",
    candidate: pod("web-1"),
    ctx: podTarget({ fieldSelector: "spec.nodeName!=node-1" }),
    reason: "selector",
  },
  {
    name: "fieldSelector on an unset field reads it as empty",
    candidate: pod("web-1"),
    ctx: podTarget({ fieldSelector: "status.nominatedNodeName=" }),
    reason: undefined,
  },
  {
    name: "fieldSelector on every other pod field",
    candidate: pod("web-1"),
    ctx: podTarget({
      fieldSelector:
        "metadata.name=web-1,metadata.namespace=shop,spec.restartPolicy=Always," +
        "spec.schedulerName=default-scheduler,spec.serviceAccountName=default," +
        "status.phase=Running,status.podIP=10.0.0.1",
    }),
    reason: undefined,
  },
  {
    name: "fieldSelector naming an inherited property never matches, even with !=",
    candidate: pod("web-1"),
    ctx: podTarget({ fieldSelector: "constructor!=x" }),
    reason: "selector",
  },
  {
    name: "fieldSelector naming a field the candidate does not carry never matches",
    candidate: pod("web-1"),
    ctx: podTarget({ fieldSelector: "status.hostIP!=192.0.2.1" }),
    reason: "selector",
  },
  {
    name: "fieldSelector on a claim's name",
    candidate: pvc("data-0"),
    ctx: pvcTarget({ fieldSelector: "metadata.name!=data-0" }),
    reason: "selector",
  },

  // annotations
  {
    name: "annotations match exactly",
    candidate: pod("web-1", { annotations: { team: "payments", other: "x" } }),
    ctx: podTarget({ annotations: { team: "payments" } }),
    reason: undefined,
  },
  {
    name: "an annotation with another value",
    candidate: pod("web-1", { annotations: { team: "payments-eu" } }),
    ctx: podTarget({ annotations: { team: "payments" } }),
    reason: "selector",
  },
  {
    name: "a missing annotation",
    candidate: pod("web-1", { annotations: { team: "payments" } }),
    ctx: podTarget({ annotations: { team: "payments", tier: "gold" } }),
    reason: "selector",
  },

  // includeNames / excludeNames
  {
    name: "includeNames: one of them matches",
    candidate: pod("api-1"),
    ctx: podTarget({ includeNames: [re("^web-"), re("^api-")] }),
    reason: undefined,
  },
  {
    name: "includeNames: none matches",
    candidate: pod("db-1"),
    ctx: podTarget({ includeNames: [re("^web-"), re("^api-")] }),
    reason: "selector",
  },
  {
    name: "excludeNames matches",
    candidate: pod("web-canary-1"),
    ctx: podTarget({ excludeNames: [re("-canary-")] }),
    reason: "selector",
  },
  {
    name: "excludeNames wins over includeNames",
    candidate: pod("web-canary-1"),
    ctx: podTarget({ includeNames: [re("^web-")], excludeNames: [re("-canary-")] }),
    reason: "selector",
  },
  {
    name: "excludeNames does not match",
    candidate: pod("web-1"),
    ctx: podTarget({ excludeNames: [re("-canary-")] }),
    reason: undefined,
  },

  // phase
  { name: "a Pending pod", candidate: pod("web-1", { phase: "Pending" }), reason: "not_running" },
  {
    name: "a Succeeded pod",
    candidate: pod("web-1", { phase: "Succeeded" }),
    reason: "not_running",
  },
  { name: "a Failed pod", candidate: pod("web-1", { phase: "Failed" }), reason: "not_running" },
  {
    name: "a pod with no phase",
    candidate: pod("web-1", { phase: undefined }),
    reason: "not_running",
  },
  {
    name: "a claim that is not Bound",
    candidate: pvc("data-0", { phase: "Pending" }),
    ctx: pvcTarget({}),
    reason: "not_bound",
  },
  {
    name: "a Bound claim",
    candidate: pvc("data-0", { phase: "Bound" }),
    ctx: pvcTarget({}),
    reason: undefined,
  },

  // minAge
  {
    name: "younger than minAge",
    candidate: pod("web-1", { createdAtMs: NOW - 9 * MINUTE }),
    ctx: podTarget({ minAgeMs: 10 * MINUTE }),
    reason: "too_young",
  },
  {
    name: "exactly minAge old",
    candidate: pod("web-1", { createdAtMs: NOW - 10 * MINUTE }),
    ctx: podTarget({ minAgeMs: 10 * MINUTE }),
    reason: undefined,
  },
  {
    name: "a young volume",
    candidate: pv("pv-1", "shop", { createdAtMs: NOW - MINUTE }),
    ctx: pvTarget({ minAgeMs: 10 * MINUTE }),
    reason: "too_young",
  },

  // owners
  { name: "an orphan pod", candidate: pod("debug", { owner: undefined }), reason: "orphan" },
  {
    name: "an orphan pod with includeOrphans",
    candidate: pod("debug", { owner: undefined }),
    ctx: podTarget({ includeOrphans: true }),
    reason: undefined,
  },
  {
    name: "a claim has no owner and is fine",
    candidate: pvc("data-0", { owner: undefined }),
    ctx: pvcTarget({}),
    reason: undefined,
  },
  {
    name: "ownerKinds includes the owner's kind",
    candidate: pod("db-0", { owner: owner("db", "StatefulSet") }),
    ctx: podTarget({ ownerKinds: ["Deployment", "StatefulSet"] }),
    reason: undefined,
  },
  {
    name: "ownerKinds leaves the owner's kind out",
    candidate: pod("agent-x", { owner: owner("agent", "DaemonSet") }),
    ctx: podTarget({ ownerKinds: ["Deployment", "StatefulSet"] }),
    reason: "selector",
  },
  {
    name: "ownerKinds does not let orphans in",
    candidate: pod("debug", { owner: undefined }),
    ctx: podTarget({ ownerKinds: ["Deployment"] }),
    reason: "orphan",
  },

  // volumes are guarded by their claim's namespace
  {
    name: "a volume bound to a claim in an excluded namespace",
    candidate: pv("pv-1", "kube-system"),
    ctx: pvTarget({}),
    reason: "excluded_namespace",
  },
  {
    name: "a volume bound to a claim in the monkey's namespace",
    candidate: pv("pv-1", MONKEY.namespace),
    ctx: { ...pvTarget({}), safety: safety({ excludedNamespaces: [] }) },
    reason: "excluded_namespace",
  },
  {
    name: "a volume bound to a claim in an opted-out namespace",
    candidate: pv("pv-1", "legacy"),
    ctx: { ...pvTarget({}), namespaces: optedOutNs },
    reason: "opted_out",
  },
  {
    name: "an opted-out volume",
    candidate: pv("pv-1", "shop", { annotations: { [OPT_OUT]: "true" } }),
    ctx: pvTarget({}),
    reason: "opted_out",
  },
  {
    name: "an unbound volume (no claim to measure recovery by)",
    candidate: pv("pv-1", undefined),
    ctx: pvTarget({}),
    reason: "not_bound",
  },
];

describe("exclusionReason", () => {
  it.each(cases)("$name → $reason", ({ candidate, ctx, reason }) => {
    expect(exclusionReason(candidate, context(ctx))).toBe(reason);
  });

  it("works on a target that came from loadConfig", () => {
    const loaded = loadConfig(`apiVersion: chaos-monkey.io/v1
kind: ChaosMonkeyConfig
safety:
  excludedNamespaces: [kube-system]
targets:
  - name: web
    kind: Pod
    schedule: "@hourly"
    selector:
      namespaces: [shop, pay]
      namespaceSelector: "chaos=enabled"
      labelSelector: "app=web,tier!=db"
      fieldSelector: "spec.nodeName=node-1"
      annotations: {team: payments}
      includeNames: ["^web-"]
      excludeNames: ["-canary-"]
      ownerKinds: [Deployment]
      minAge: 10m
`);
    if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
    const { safety: s, targets } = loaded.config;
    const ctx = context({ target: targets[0], safety: s });
    const good = pod("web-1", { annotations: { team: "payments" } });
    expect(exclusionReason(good, ctx)).toBeUndefined();
    expect(exclusionReason({ ...good, name: "web-canary-1" }, ctx)).toBe("selector");
    expect(exclusionReason({ ...good, labels: { app: "web", tier: "db" } }, ctx)).toBe("selector");
    expect(exclusionReason({ ...good, fields: { "spec.nodeName": "node-2" } }, ctx)).toBe(
      "selector",
    );
    expect(exclusionReason({ ...good, namespace: "dev", guardNamespaces: ["dev"] }, ctx)).toBe(
      "selector",
    );
    expect(exclusionReason({ ...good, createdAtMs: NOW - MINUTE }, ctx)).toBe("too_young");
  });

  it("reports the first rule that excludes, in a stable order", () => {
    const bad = pod(MONKEY.podName ?? "", {
      namespace: MONKEY.namespace,
      guardNamespaces: [MONKEY.namespace],
      deleting: true,
      phase: "Pending",
      owner: undefined,
    });
    expect(exclusionReason(bad, context())).toBe("deleting");
    expect(exclusionReason({ ...bad, deleting: false }, context())).toBe("self");
  });
});

describe("protectionReason (what no target can override)", () => {
  const ctx = context();
  it.each<[string, Candidate, string | undefined]>([
    ["a plain pod", pod("web-1"), undefined],
    ["the monkey's own pod", pod(MONKEY.podName ?? "", { namespace: MONKEY.namespace }), "self"],
    ["a pod in kube-system", pod("coredns", { namespace: "kube-system" }), "excluded_namespace"],
    ["an opted-out pod", pod("web-1", { annotations: { [OPT_OUT]: "true" } }), "opted_out"],
    ["a pod in an unknown namespace", pod("web-1", { namespace: "brand-new" }), "opted_out"],
    [
      "a claim mounted by an opted-out pod",
      pvc("d", { consumers: [consumer("db-0")], guardAnnotations: [{ [OPT_OUT]: "true" }] }),
      "opted_out",
    ],
    // Target rules are not protections: wrong phase, too young, deleting.
    ["a Pending pod", pod("web-1", { phase: "Pending", createdAtMs: NOW }), undefined],
  ])("%s → %s", (_name, candidate, reason) => {
    expect(protectionReason(candidate, ctx)).toBe(reason);
  });

  it("agrees with exclusionReason on every protection it reports", () => {
    for (const c of [
      pod(MONKEY.podName ?? "", { namespace: MONKEY.namespace }),
      pod("coredns", { namespace: "kube-system" }),
      pod("web-1", { annotations: { [OPT_OUT]: "true" } }),
    ])
      expect(exclusionReason(c, ctx)).toBe(protectionReason(c, ctx));
  });
});
