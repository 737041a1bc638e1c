// Kubernetes label- and field-selector syntax, parsed once and matched client-side. The API
// server applies the same selectors to watches; matching them again here means a victim can
// never come from outside the selector, whatever a cache or a watch delivered.
import type { TargetKind } from "../kinds.js";

export type Requirement =
  | { readonly key: string; readonly op: "in" | "notin"; readonly values: readonly string[] }
  | { readonly key: string; readonly op: "exists" | "!exists" };

export type Selector = readonly Requirement[];

const KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Splits on commas that are not inside a parenthesised value set. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms.map((t) => t.trim());
}

// As the API server checks a qualified name: a DNS-subdomain prefix of at most 253 characters and
// a name part of at most 63, so a selector that validates here is never refused there.
function checkKey(key: string): string {
  const slash = key.indexOf("/");
  const tooLong = slash > 253 || key.length - slash - 1 > 63;
  if (!KEY.test(key) || tooLong) throw new Error(`invalid label key "${key}"`);
  return key;
}

function checkValue(value: string): string {
  if (!VALUE.test(value) || value.length > 63) throw new Error(`invalid label value "${value}"`);
  return value;
}

function parseSetTerm(term: string): Requirement | undefined {
  const m = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(term);
  if (!m) return undefined;
  // The API server refuses an empty set: "app in ()" must not read as "app in ('')".
  if ((m[3] ?? "").trim() === "") throw new Error(`empty value set in "${term}"`);
  const values = (m[3] ?? "").split(",").map((v) => checkValue(v.trim()));
  return { key: checkKey(m[1] ?? ""), op: m[2] === "in" ? "in" : "notin", values };
}

function parseTerm(term: string): Requirement {
  if (term === "") throw new Error("empty requirement");
  const set = parseSetTerm(term);
  if (set) return set;
  const eq = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (eq) {
    const op = eq[2] === "!=" ? "notin" : "in";
    return { key: checkKey(eq[1] ?? ""), op, values: [checkValue(eq[3] ?? "")] };
  }
  if (term.startsWith("!")) return { key: checkKey(term.slice(1).trim()), op: "!exists" };
  return { key: checkKey(term), op: "exists" };
}

/** Parses a label selector; throws an Error naming the bad term. "" selects everything. */
export function parseLabelSelector(text: string): Selector {
  if (text.trim() === "") return [];
  return splitTerms(text).map(parseTerm);
}

export function matchesRequirement(
  req: Requirement,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const has = labels !== undefined && Object.hasOwn(labels, req.key);
  const value = has ? labels[req.key] : undefined;
  switch (req.op) {
    case "exists":
      return has;
    case "!exists":
      return !has;
    case "in":
      return value !== undefined && req.values.includes(value);
    case "notin":
      return value === undefined || !req.values.includes(value);
  }
}

export function matchesSelector(
  selector: Selector,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  return selector.every((req) => matchesRequirement(req, labels));
}

/** Field selectors: `path=value`, `path==value`, `path!=value`, comma-separated. */
export interface FieldRequirement {
  readonly path: string;
  readonly equal: boolean;
  readonly value: string;
}

/**
 * The fields a field selector may name, per kind (SPEC §2): those the API server supports for
 * that kind. Anything else is a config error; a candidate's `fields` holds exactly these keys.
 */
export const SELECTABLE_FIELDS: Readonly<Record<TargetKind, readonly string[]>> = Object.freeze({
  Pod: Object.freeze([
    "metadata.name",
    "metadata.namespace",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "status.nominatedNodeName",
    "status.phase",
    "status.podIP",
  ]),
  PersistentVolumeClaim: Object.freeze(["metadata.name", "metadata.namespace"]),
  PersistentVolume: Object.freeze(["metadata.name", "metadata.namespace"]),
});

export function parseFieldSelector(text: string): readonly FieldRequirement[] {
  if (text.trim() === "") return [];
  return text.split(",").map((raw) => {
    const m = /^\s*([A-Za-z][A-Za-z0-9.]*)\s*(==|=|!=)\s*([^,]*?)\s*$/.exec(raw);
    if (!m) throw new Error(`invalid field requirement "${raw.trim()}"`);
    return { path: m[1] ?? "", equal: m[2] !== "!=", value: m[3] ?? "" };
  });
}

/** The paths of `text` that `kind` cannot select on, in order, each once. */
export function unselectableFields(kind: TargetKind, text: string): string[] {
  const allowed = SELECTABLE_FIELDS[kind];
  const paths = parseFieldSelector(text).map((r) => r.path);
  return [...new Set(paths.filter((p) => !allowed.includes(p)))];
}

export function matchesFields(
  reqs: readonly FieldRequirement[],
  fields: Readonly<Record<string, string | undefined>>,
): boolean {
  // Only a field the candidate carries as its own: a path it lacks, or one every object
  // inherits ("constructor"), never matches, not even with != (fail closed). A carried field
  // that is unset reads as "", as the API server reads it.
  return reqs.every(
    (r) => Object.hasOwn(fields, r.path) && ((fields[r.path] ?? "") === r.value) === r.equal,
  );
}

// Fields every pod of a workload shares, because they come from its pod template. Only these
// narrow a pod watch on the server: recovery reads the same watch for the victim's replacement,
// which has another name, node and IP, and is Pending at first.
const TEMPLATE_FIELDS: ReadonlySet<string> = new Set([
  "metadata.namespace",
  "spec.restartPolicy",
  "spec.schedulerName",
  "spec.serviceAccountName",
]);

// As the API server reads a field selector value: backslash, comma and "=" are escaped.
const escapeFieldValue = (v: string): string => v.replace(/[\\,=]/g, (c) => `\\${c}`);

/**
 * The part of a Pod target's field selector that is sent with its pod watch, or undefined for
 * none. The whole selector is still matched client-side on every candidate.
 */
export function podWatchFieldSelector(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const terms = parseFieldSelector(text)
    .filter((r) => TEMPLATE_FIELDS.has(r.path))
    .map((r) => `${r.path}${r.equal ? "=" : "!="}${escapeFieldValue(r.value)}`);
  return terms.length > 0 ? terms.join(",") : undefined;
}
