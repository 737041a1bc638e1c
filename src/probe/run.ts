// Running one probe once: an HTTP request, or an instant PromQL query, always with its timeout
// (on the injected clock), and its answer judged by verdict.ts.
import { fetch as undiciFetch } from "undici";
import type { Clock } from "../clock.js";
import type { HttpProbeSpec, ProbeSpec, PrometheusProbeSpec } from "../config/steady-state.js";
import { bodyVerdict, prometheusVerdict, statusVerdict } from "./verdict.js";
import type { ProbeOutcome } from "./verdict.js";

/** The part of fetch a probe uses (tests pass the real one against a loopback server). */
export type ProbeFetch = (
  url: string,
  init: { method: string; headers: Record<string, string>; signal: AbortSignal },
) => Promise<{ status: number; text(): Promise<string> }>;

export interface ProbeDeps {
  readonly clock: Clock;
  readonly fetch?: ProbeFetch;
}

/** A probe's body is read only to look for `bodyContains`; more than this is not read. */
const MAX_BODY_CHARS = 1 << 20;

const defaultFetch: ProbeFetch = (url, init) => undiciFetch(url, init);

async function withTimeout<T>(
  clock: Clock,
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const ctl = new AbortController();
  const timer = new AbortController();
  void clock.sleep(ms, timer.signal).then(
    () => ctl.abort(new Error(`timed out after ${ms} ms`)),
    () => undefined,
  );
  try {
    return await work(ctl.signal);
  } finally {
    timer.abort();
  }
}

const reasonOf = (err: unknown, signal?: AbortSignal): string => {
  if (signal?.aborted && signal.reason instanceof Error) return signal.reason.message;
  const e = err as { cause?: { code?: string }; message?: string };
  return e.cause?.code ?? e.message ?? String(err);
};

async function runHttp(p: HttpProbeSpec, deps: ProbeDeps): Promise<ProbeOutcome> {
  const f = deps.fetch ?? defaultFetch;
  let aborted: AbortSignal | undefined;
  try {
    return await withTimeout(deps.clock, p.timeoutMs, async (signal) => {
      aborted = signal;
      const res = await f(p.url, { method: p.method, headers: { ...p.headers.reveal() }, signal });
      const status = statusVerdict(res.status, p.expectStatus);
      const body = p.bodyContains === "" ? "" : (await res.text()).slice(0, MAX_BODY_CHARS);
      if (p.bodyContains === "") await res.text().catch(() => ""); // free the connection
      return status.result === "pass" ? bodyVerdict(body, p.bodyContains) : status;
    });
  } catch (err) {
    return { result: "error", reason: reasonOf(err, aborted) };
  }
}

async function runPrometheus(p: PrometheusProbeSpec, deps: ProbeDeps): Promise<ProbeOutcome> {
  const f = deps.fetch ?? defaultFetch;
  const url = new URL("/api/v1/query", p.url);
  url.searchParams.set("query", p.query);
  let aborted: AbortSignal | undefined;
  try {
    return await withTimeout(deps.clock, p.timeoutMs, async (signal) => {
      aborted = signal;
      const res = await f(url.toString(), { method: "GET", headers: {}, signal });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return { result: "error", reason: `status ${res.status}, not JSON` } as const;
      }
      return prometheusVerdict(json, p);
    });
  } catch (err) {
    return { result: "error", reason: reasonOf(err, aborted) };
  }
}

export function runProbe(probe: ProbeSpec, deps: ProbeDeps): Promise<ProbeOutcome> {
  return probe.http ? runHttp(probe.http, deps) : runPrometheus(probe.prometheus, deps);
}
