// Parses config text into a Config, or into every error found, each with its YAML path and line:
//   targets[1].schedule: "*/61 * * * *" is not a valid cron expression (line 14)
import { isMap, isPair, isScalar, LineCounter, parseDocument } from "yaml";
import type { Document, Node } from "yaml";
import type { z } from "zod";
import { rawConfigSchema } from "./schema.js";
import type { Env } from "./env.js";
import { crossFieldIssues, envIssues, resolveConfig } from "./resolve.js";
import type { Config } from "./types.js";
import type { Issue, PathPart } from "./issue.js";

export type LoadResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly errors: readonly string[] };

export function formatPath(path: readonly PathPart[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

function valueAt(root: unknown, path: readonly PathPart[]): unknown {
  let cur = root;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PathPart, unknown>)[p];
  }
  return cur;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * A sink's URL and headers may be credentials even when written inline (a Slack webhook URL is
 * one): errors about them never print the value.
 */
function isSecretPath(path: readonly PathPart[]): boolean {
  return path[0] === "notify" && (path[2] === "slack" || path[2] === "webhook");
}

/** One zod issue becomes one or more of ours (an unrecognized_keys issue names several keys). */
function fromZod(issue: z.core.$ZodIssue, raw: unknown): Issue[] {
  const path = issue.path.filter((p): p is PathPart => typeof p !== "symbol");
  const value = valueAt(raw, path);
  // A missing key fails as a wrong type (or, for a literal, a wrong value): say what it is.
  if (value === undefined && (issue.code === "invalid_type" || issue.code === "invalid_value"))
    return [{ path, message: "is required", showValue: false }];
  const issues = fromZodIssue(issue, path, value);
  return isSecretPath(path) ? issues.map((i) => ({ ...i, showValue: false })) : issues;
}

function fromZodIssue(issue: z.core.$ZodIssue, path: PathPart[], value: unknown): Issue[] {
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((k) => ({
        path: [...path, k],
        message: unknownKeyMessage(path, k),
        showValue: false,
      }));
    case "invalid_type":
      return [
        {
          path,
          message: `must be ${expectedName(issue.expected, value)}, not ${describe(value)}`,
          showValue: false,
        },
      ];
    case "invalid_value":
      return [
        { path, message: `is not one of: ${issue.values.map(String).join(", ")}`, showValue: true },
      ];
    case "invalid_union":
      return [{ path, message: "has the wrong type", showValue: true }];
    case "invalid_key":
      // The key itself is wrong (a record's key refinement): its own message, no value.
      return [{ path, message: issue.issues[0]?.message ?? issue.message, showValue: false }];
    case "too_small":
    case "too_big":
      return [{ path, message: tooMessage(issue), showValue: typeof value !== "object" }];
    default:
      return [{ path, message: issue.message, showValue: true }];
  }
}

// YAML 1.1 parsers (PyYAML, go-yaml v2) read a key `on:` as `true:`, and a config may pass
// through one on its way here; so a sink's key is `events`. Say so to whoever writes `on`, or
// whose `on` a tool already turned into `true`.
function unknownKeyMessage(path: readonly PathPart[], key: string): string {
  const inSink = path.length === 2 && path[0] === "notify" && typeof path[1] === "number";
  if (inSink && (key === "on" || key === "true"))
    return "is not a known key; list a sink's events under `events` (YAML 1.1 reads `on` as true)";
  return "is not a known key";
}

function expectedName(t: string, value: unknown): string {
  if (t === "int") return "a whole number";
  if (t === "number" && typeof value === "number") return "a finite number";
  return t;
}

function tooMessage(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  if (!issue.message.startsWith("Too ")) return issue.message;
  if (issue.code === "too_small") return `must be at least ${String(issue.minimum)}`;
  return `must be at most ${String(issue.maximum)}`;
}

/** The node at path, or for a key that should not be there, the key itself. */
function nodeAt(doc: Document, path: readonly PathPart[]): Node | undefined {
  for (let n = path.length; n >= 0; n--) {
    const parent = n === 0 ? doc.contents : doc.getIn(path.slice(0, n - 1), true);
    if (n > 0 && isMap(parent)) {
      const pair = parent.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(path[n - 1]),
      );
      if (pair && n === path.length) return (pair.key as Node) ?? undefined;
    }
    const node = doc.getIn(path.slice(0, n), true);
    if (node && typeof node === "object" && "range" in node) return node as Node;
  }
  return undefined;
}

function lineOf(doc: Document, lines: LineCounter, path: readonly PathPart[]): number | undefined {
  const node = nodeAt(doc, path);
  const offset = node?.range?.[0];
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

function render(issue: Issue, ctx: { doc: Document; lines: LineCounter; raw: unknown }): string {
  const where = issue.path.length ? `${formatPath(issue.path)}: ` : "";
  const value = issue.showValue ? `${JSON.stringify(valueAt(ctx.raw, issue.path))} ` : "";
  const line = lineOf(ctx.doc, ctx.lines, issue.path);
  return `${where}${value}${issue.message}${line === undefined ? "" : ` (line ${line})`}`;
}

/**
 * Parses and validates config text. With `env` (what run and once pass: the process
 * environment), every `${NAME}` is expanded from it and a missing variable is an error; without
 * (validate), references are not expanded, and requiredEnv says which variables a run will need.
 */
export function loadConfig(text: string, env?: Env): LoadResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0)
    return {
      ok: false,
      errors: doc.errors.map(
        (e) => `${e.message.split("\n")[0] ?? e.code} (line ${lines.linePos(e.pos[0]).line})`,
      ),
    };
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) return { ok: false, errors: ["the config is empty"] };
  const parsed = rawConfigSchema.safeParse(raw);
  const issues = parsed.success
    ? [...crossFieldIssues(parsed.data), ...(env === undefined ? [] : envIssues(parsed.data, env))]
    : parsed.error.issues.flatMap((i) => fromZod(i, raw));
  if (issues.length > 0 || !parsed.success) {
    const ctx = { doc, lines, raw };
    return { ok: false, errors: issues.map((i) => render(i, ctx)) };
  }
  return { ok: true, config: resolveConfig(parsed.data, env) };
}

/**
 * The environment variables a run of this config needs (its `${NAME}` references), each once,
 * sorted; none for a text that is not a valid config.
 */
export function requiredEnv(source: Config | string): string[] {
  let config: Config;
  if (typeof source === "string") {
    const result = loadConfig(source);
    if (!result.ok) return [];
    config = result.config;
  } else config = source;
  return [
    ...new Set([
      ...config.notify.flatMap((sink) => sink.env),
      ...config.targets.flatMap((t) => t.steadyState?.env ?? []),
    ]),
  ].sort();
}
