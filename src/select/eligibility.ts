// The eligibility rules of SPEC §2, one small predicate each. An object is eligible when no rule
// excludes it; the first rule that does gives the reason that is logged.
import type { Safety, Target } from "../config/types.js";
import type { Candidate, NamespaceInfo, Self } from "./candidate.js";
import {
  matchesFields,
  matchesSelector,
  parseFieldSelector,
  parseLabelSelector,
} from "../selectors/labels.js";

export type ExclusionReason =
  | "selector"
  | "deleting"
  | "excluded_namespace"
  | "opted_out"
  | "self"
  | "not_running"
  | "not_bound"
  | "too_young"
  | "orphan";

export interface EligibilityContext {
  readonly target: Target;
  readonly safety: Safety;
  readonly nowMs: number;
  readonly namespaces: ReadonlyMap<string, NamespaceInfo>;
  readonly self: Self;
}

type Rule = (c: Candidate, ctx: EligibilityContext) => ExclusionReason | undefined;

export type ProtectionContext = Pick<EligibilityContext, "safety" | "namespaces" | "self">;
export type ProtectionReason = Extract<
  ExclusionReason,
  "self" | "excluded_namespace" | "opted_out"
>;
/** A rule that needs no target: it protects an object whatever a target selects. */
type Protection = (c: Candidate, ctx: ProtectionContext) => ProtectionReason | undefined;

interface Compiled {
  readonly namespaceSelector: ReturnType<typeof parseLabelSelector> | undefined;
  readonly labelSelector: ReturnType<typeof parseLabelSelector> | undefined;
  readonly fieldSelector: ReturnType<typeof parseFieldSelector> | undefined;
}
// Selectors are parsed once per (frozen) target, not once per object.
const compiledCache = new WeakMap<Target, Compiled>();
function compiled(target: Target): Compiled {
  let c = compiledCache.get(target);
  if (!c) {
    const s = target.selector;
    c = {
      namespaceSelector:
        s.namespaceSelector === undefined ? undefined : parseLabelSelector(s.namespaceSelector),
      labelSelector:
        s.labelSelector === undefined ? undefined : parseLabelSelector(s.labelSelector),
      fieldSelector:
        s.fieldSelector === undefined ? undefined : parseFieldSelector(s.fieldSelector),
    };
    compiledCache.set(target, c);
  }
  return c;
}

const optedOut = (annotations: Readonly<Record<string, string>> | undefined, key: string) =>
  annotations?.[key] === "true";

// The target names this kind of object.
const byKind: Rule = (c, { target }) => (c.kind === target.kind ? undefined : "selector");

// Objects already being deleted are someone else's business.
const byDeleting: Rule = (c) => (c.deleting ? "deleting" : undefined);

// Excluded namespaces, and always the monkey's own.
const byExcludedNamespace: Protection = (c, { safety, self }) =>
  c.guardNamespaces.some((ns) => ns === self.namespace || safety.excludedNamespaces.includes(ns))
    ? "excluded_namespace"
    : undefined;

// An opted-out object, an object in an opted-out namespace, or a volume whose claim or one of
// whose consumers opts out (killing it would kill them: SPEC §7 threat model). A namespace or a
// claim the caches do not hold yet (their watch may lag) cannot be shown not to opt out, so it
// counts as opted out: fail closed.
const byOptOut: Protection = (c, { safety, namespaces }) => {
  const key = safety.optOutAnnotation;
  const out =
    optedOut(c.annotations, key) ||
    c.guardAnnotations.some((a) => a === undefined || optedOut(a, key)) ||
    c.guardNamespaces.some((ns) => {
      const info = namespaces.get(ns);
      return info === undefined || optedOut(info.annotations, key);
    });
  return out ? "opted_out" : undefined;
};

const isSelf = (p: { namespace: string; name: string }, self: Self): boolean =>
  self.podName !== undefined && p.namespace === self.namespace && p.name === self.podName;

// Never the monkey's own pod, nor a volume it mounts.
const bySelf: Protection = (c, { self }) =>
  (c.kind === "Pod" && isSelf(c, self)) || c.consumers.some((p) => isSelf(p, self))
    ? "self"
    : undefined;

// selector.namespaces (ignored for cluster-scoped volumes).
const byNamespaceList: Rule = (c, { target }) => {
  const list = target.selector.namespaces;
  if (c.kind === "PersistentVolume" || list.length === 0) return undefined;
  return list.includes(c.namespace) ? undefined : "selector";
};

// selector.namespaceSelector, on the labels of the object's namespace (or its claim's, for a PV).
const byNamespaceSelector: Rule = (c, { target, namespaces }) => {
  const sel = compiled(target).namespaceSelector;
  if (sel === undefined) return undefined;
  const ok =
    c.guardNamespaces.length > 0 &&
    c.guardNamespaces.every((ns) => {
      const info = namespaces.get(ns);
      return info !== undefined && matchesSelector(sel, info.labels);
    });
  return ok ? undefined : "selector";
};

// labelSelector, fieldSelector and exact annotations.
const byLabelsFieldsAnnotations: Rule = (c, { target }) => {
  const { labelSelector, fieldSelector } = compiled(target);
  if (labelSelector !== undefined && !matchesSelector(labelSelector, c.labels)) return "selector";
  if (fieldSelector !== undefined && !matchesFields(fieldSelector, c.fields)) return "selector";
  const annotationsMatch = Object.entries(target.selector.annotations).every(
    ([k, v]) => c.annotations[k] === v,
  );
  return annotationsMatch ? undefined : "selector";
};

// includeNames (any must match) and excludeNames (none may match).
const byName: Rule = (c, { target }) => {
  const { includeNames, excludeNames } = target.selector;
  if (includeNames.length > 0 && !includeNames.some((r) => r.test(c.name))) return "selector";
  return excludeNames.some((r) => r.test(c.name)) ? "selector" : undefined;
};

// Pods: only Running ones; a Pending or finished pod proves nothing about recovery.
const byPhase: Rule = (c) =>
  c.kind === "Pod" && c.phase !== "Running" ? "not_running" : undefined;

// Volumes and claims: only Bound ones; an unbound one has no claim whose recovery could be measured.
const byBound: Rule = (c) => (c.kind !== "Pod" && c.phase !== "Bound" ? "not_bound" : undefined);

// minAge: young objects may still be starting up.
const byAge: Rule = (c, { target, nowMs }) =>
  nowMs - c.createdAtMs < target.selector.minAgeMs ? "too_young" : undefined;

// Pods with no controller never come back; ownerKinds filters on the top-level owner.
const byOwner: Rule = (c, { target }) => {
  if (c.kind !== "Pod") return undefined;
  const s = target.selector;
  if (c.owner === undefined) return s.includeOrphans ? undefined : "orphan";
  return s.ownerKinds.length === 0 || s.ownerKinds.includes(c.owner.kind) ? undefined : "selector";
};

const RULES: readonly Rule[] = [
  byKind,
  byDeleting,
  bySelf,
  byExcludedNamespace,
  byOptOut,
  byNamespaceList,
  byNamespaceSelector,
  byLabelsFieldsAnnotations,
  byName,
  byPhase,
  byBound,
  byAge,
  byOwner,
];

const PROTECTIONS: readonly Protection[] = [bySelf, byExcludedNamespace, byOptOut];

/**
 * Why `c` may never be touched (the monkey's own, excluded, opted out), or undefined: the part
 * of exclusionReason that needs no target, e.g. for a consumer restarted with a volume victim.
 */
export function protectionReason(
  c: Candidate,
  ctx: ProtectionContext,
): ProtectionReason | undefined {
  for (const rule of PROTECTIONS) {
    const reason = rule(c, ctx);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

export function exclusionReason(
  c: Candidate,
  ctx: EligibilityContext,
): ExclusionReason | undefined {
  for (const rule of RULES) {
    const reason = rule(c, ctx);
    if (reason !== undefined) return reason;
  }
  return undefined;
}
