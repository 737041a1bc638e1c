// Whether one probe's answer passes (SPEC §2 steadyState): pure, so every shape of answer is
// tested without a server. A probe never "sort of" passes: anything unexpected is a failure
// with its reason, logged and counted.
import type { PrometheusProbeSpec, StatusRange } from "../config/steady-state.js";

export type ProbeOutcome =
  | { readonly result: "pass" }
  /** The service answered, and the answer says it is not well. */
  | { readonly result: "fail"; readonly reason: string }
  /** No usable answer: timeout, refused connection, a query error, a malformed body. */
  | { readonly result: "error"; readonly reason: string };

const PASS: ProbeOutcome = { result: "pass" };

export function statusVerdict(status: number, expect: readonly StatusRange[]): ProbeOutcome {
  return expect.some((r) => status >= r.min && status <= r.max)
    ? PASS
    : { result: "fail", reason: `status ${status}` };
}

export function bodyVerdict(body: string, contains: string): ProbeOutcome {
  if (contains === "" || body.includes(contains)) return PASS;
  return { result: "fail", reason: `body lacks ${JSON.stringify(contains)}` };
}

interface PromAnswer {
  status?: unknown;
  error?: unknown;
  data?: { resultType?: unknown; result?: unknown };
}

/** Prometheus writes sample values as strings, infinities as "+Inf" and "-Inf". */
function promFloat(v: unknown): number {
  if (v === "+Inf") return Infinity;
  if (v === "-Inf") return -Infinity;
  return typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
}

/** The numbers an instant query answered: a vector's sample values, or a scalar. */
function samples(answer: PromAnswer): number[] | string {
  if (answer.status !== "success")
    return `query error: ${typeof answer.error === "string" ? answer.error : "status " + String(answer.status)}`;
  const type = answer.data?.resultType;
  const result = answer.data?.result;
  if (type === "scalar" && Array.isArray(result)) return [promFloat(result[1])];
  if (type === "vector" && Array.isArray(result))
    return result.map((s: { value?: unknown[] }) => promFloat(s.value?.[1]));
  return `unexpected result type ${String(type)}`;
}

/**
 * A PromQL probe's verdict on /api/v1/query's JSON: every sample must be a number strictly
 * below (or above) the bound. An empty result is a failure (the series it watches is gone,
 * which is not "zero errors"), and so is NaN.
 */
export function prometheusVerdict(answer: unknown, probe: PrometheusProbeSpec): ProbeOutcome {
  const values = samples(answer ?? {});
  if (typeof values === "string") return { result: "error", reason: values };
  if (values.length === 0) return { result: "fail", reason: "empty result" };
  for (const v of values) {
    if (Number.isNaN(v)) return { result: "fail", reason: "not a number (NaN)" };
    if (probe.below !== undefined && !(v < probe.below))
      return { result: "fail", reason: `${v} is not below ${probe.below}` };
    if (probe.above !== undefined && !(v > probe.above))
      return { result: "fail", reason: `${v} is not above ${probe.above}` };
  }
  return PASS;
}
