// Builders for the selection tests: one valid, eligible-by-default object of each shape, with
// overrides. Test-only; nothing in src imports this file.
import type { Safety, Selector, Target } from "../config/types.js";
import type { Candidate, ConsumerRef, NamespaceInfo, Self } from "./candidate.js";
import type { EligibilityContext } from "./eligibility.js";
import type { WorkloadRef } from "../kube/objects.js";

export const NOW = Date.UTC(2026, 4, 1, 12, 0, 0);
export const MINUTE = 60_000;
export const OPT_OUT = "chaos-monkey.io/exclude";

export function selector(overrides: Partial<Selector> = {}): Selector {
  return {
    namespaces: [],
    namespaceSelector: undefined,
    labelSelector: undefined,
    fieldSelector: undefined,
    annotations: {},
    includeNames: [],
    excludeNames: [],
    ownerKinds: [],
    includeOrphans: false,
    minAgeMs: 0,
    ...overrides,
  };
}

export function target(overrides: Partial<Target> = {}): Target {
  return {
    name: "t",
    kind: "Pod",
    schedule: "@hourly",
    timezone: "UTC",
    jitterMs: 0,
    concurrency: "Forbid",
    selector: selector(),
    mode: "one",
    value: 1,
    action: {
      method: "evict",
      gracePeriodSeconds: undefined,
      stripFinalizers: [],
      restartConsumers: false,
    },
    recoveryTimeoutMs: 300_000,
    ...overrides,
  };
}

export function safety(overrides: Partial<Safety> = {}): Safety {
  return {
    excludedNamespaces: ["kube-system", "kube-public", "kube-node-lease"],
    allowSystemNamespaces: false,
    optOutAnnotation: OPT_OUT,
    maxKillsPerRound: 10,
    maxPerOwner: 1,
    requireHealthy: true,
    blackout: { weekdays: [], timesOfDay: [], dates: [] },
    ...overrides,
  };
}

export function owner(name: string, kind = "Deployment", namespace = "shop"): WorkloadRef {
  return { kind, namespace, name, uid: `uid-${kind}-${namespace}-${name}` };
}

/** A Running pod in "shop", an hour old, owned by Deployment "web". */
export function pod(name: string, overrides: Partial<Candidate> = {}): Candidate {
  const namespace = overrides.namespace ?? "shop";
  return {
    kind: "Pod",
    namespace,
    name,
    uid: `uid-pod-${namespace}-${name}`,
    labels: { app: "web" },
    annotations: {},
    createdAtMs: NOW - 60 * MINUTE,
    deleting: false,
    phase: "Running",
    guardNamespaces: [namespace],
    guardAnnotations: [],
    consumers: [],
    owner: owner("web", "Deployment", namespace),
    fields: {
      "metadata.name": name,
      "metadata.namespace": namespace,
      "spec.nodeName": "node-1",
      "spec.restartPolicy": "Always",
      "spec.schedulerName": "default-scheduler",
      "spec.serviceAccountName": "default",
      "status.nominatedNodeName": undefined,
      "status.phase": Object.hasOwn(overrides, "phase") ? overrides.phase : "Running",
      "status.podIP": "10.0.0.1",
    },
    ...overrides,
  };
}

/** A pod mounting a claim, as a volume candidate lists it. */
export function consumer(name: string, namespace = "shop"): ConsumerRef {
  return { namespace, name, uid: `uid-pod-${namespace}-${name}`, resourceVersion: "1" };
}

/** A Bound claim in "shop", an hour old, that no pod mounts. */
export function pvc(name: string, overrides: Partial<Candidate> = {}): Candidate {
  const namespace = overrides.namespace ?? "shop";
  return {
    kind: "PersistentVolumeClaim",
    namespace,
    name,
    uid: `uid-pvc-${namespace}-${name}`,
    labels: { app: "web" },
    annotations: {},
    createdAtMs: NOW - 60 * MINUTE,
    deleting: false,
    phase: "Bound",
    guardNamespaces: [namespace],
    guardAnnotations: [],
    consumers: [],
    owner: undefined,
    fields: { "metadata.name": name, "metadata.namespace": namespace },
    ...overrides,
  };
}

/** A Bound volume whose claim lives in `claimNamespace` (none: unbound). */
export function pv(
  name: string,
  claimNamespace: string | undefined,
  overrides: Partial<Candidate> = {},
): Candidate {
  return {
    kind: "PersistentVolume",
    namespace: "",
    name,
    uid: `uid-pv-${name}`,
    labels: { app: "web" },
    annotations: {},
    createdAtMs: NOW - 60 * MINUTE,
    deleting: false,
    phase: claimNamespace === undefined ? "Available" : "Bound",
    guardNamespaces: claimNamespace === undefined ? [] : [claimNamespace],
    // The bound claim, not opted out.
    guardAnnotations: claimNamespace === undefined ? [] : [{}],
    consumers: [],
    owner: undefined,
    fields: { "metadata.name": name, "metadata.namespace": "" },
    ...overrides,
  };
}

export function namespace(
  name: string,
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
): NamespaceInfo {
  return { name, labels, annotations };
}

export function namespaceMap(...infos: NamespaceInfo[]): ReadonlyMap<string, NamespaceInfo> {
  return new Map(infos.map((n) => [n.name, n]));
}

export const MONKEY: Self = { namespace: "chaos", podName: "chaos-monkey-7d9f-abcde" };

/** The namespaces every builder above uses, none opted out, plus the monkey's own. */
export const DEFAULT_NAMESPACES = namespaceMap(
  namespace("shop", { chaos: "enabled" }),
  namespace("pay", { chaos: "enabled" }),
  namespace("dev"),
  namespace("kube-system"),
  namespace("chaos"),
);

export function context(overrides: Partial<EligibilityContext> = {}): EligibilityContext {
  return {
    target: target(),
    safety: safety(),
    nowMs: NOW,
    namespaces: DEFAULT_NAMESPACES,
    self: MONKEY,
    ...overrides,
  };
}
