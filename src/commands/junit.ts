// `once --output junit`: the verdict as JUnit XML, the shape GitLab, Jenkins and GitHub test
// reporters read as they are (NOTES §7): a testsuite per round, a testcase per victim, failed
// when it did not recover, was not steady after the kill, or missed its objective; a skipped
// round is a skipped testcase, a failed one an error.
import type { RecoveryResult } from "../recover/types.js";
import { lastPhaseSeconds } from "../recover/types.js";
import { recoveryOf } from "./verdict.js";
import type { RoundSummary } from "./verdict.js";

const escape = (s: string): string =>
  s.replace(
    /[<>&"']/g,
    (c) => `&${{ "<": "lt", ">": "gt", "&": "amp", '"': "quot", "'": "apos" }[c] ?? c};`,
  );

const attrs = (a: Record<string, string | number>): string =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${escape(String(v))}"`)
    .join("");

interface Case {
  readonly name: string;
  readonly time: number;
  readonly failure?: { message: string; type: string };
  readonly error?: string;
  readonly skipped?: string;
}

const secs = (s: number | undefined) => (s === undefined ? "?" : `${s.toFixed(3)}s`);

/** Why a killed victim's testcase fails, if it does. */
function failureOf(r: RecoveryResult | undefined, result: string): Case["failure"] {
  if (result === "failed") return { type: "kill_failed", message: "the kill failed" };
  if (result === "terminating")
    return { type: "not_recovered", message: "deleted, but held Terminating by its finalizers" };
  if (!r) return undefined;
  const objective = r.victim.target.recoveryObjectiveMs;
  if (r.outcome === "timeout") {
    const probes = r.notSteady?.length ? `; probes not steady: ${r.notSteady.join(", ")}` : "";
    return {
      type: "not_recovered",
      message: `not recovered within ${r.victim.target.recoveryTimeoutMs / 1000}s${probes}`,
    };
  }
  if (r.outcome !== "recovered") return { type: r.outcome, message: `recovery ${r.outcome}` };
  if (r.objectiveMissed && objective !== undefined)
    return {
      type: "objective_missed",
      message: `objective missed: recovered in ${secs(lastPhaseSeconds(r.phases))}, objective ${objective / 1000}s`,
    };
  return undefined;
}

function casesOf({ report, recoveries }: RoundSummary): Case[] {
  if (report.failed) return [{ name: "round", time: 0, error: "the round failed (see the log)" }];
  if (report.victims.length === 0)
    return [{ name: "round", time: 0, skipped: `skipped: ${report.skipped ?? "no victims"}` }];
  return report.victims.map((v) => {
    const r = recoveryOf(recoveries, v);
    const key = v.namespace ? `${v.namespace}/${v.name}` : v.name;
    const failure = failureOf(r, v.result);
    const name = `${v.kind} ${key}`;
    const time = r ? lastPhaseSeconds(r.phases) : 0;
    if (v.result !== "killed" && !failure)
      return {
        name,
        time,
        skipped: `not killed: ${v.result}${v.message ? ` (${v.message})` : ""}`,
      };
    return { name, time, ...(failure ? { failure } : {}) };
  });
}

function renderCase(target: string, c: Case): string {
  const open = `    <testcase${attrs({ classname: `chaos-monkey.${target}`, name: c.name, time: c.time.toFixed(3) })}`;
  if (c.failure) return `${open}>\n      <failure${attrs(c.failure)}/>\n    </testcase>`;
  if (c.error) return `${open}>\n      <error${attrs({ message: c.error })}/>\n    </testcase>`;
  if (c.skipped)
    return `${open}>\n      <skipped${attrs({ message: c.skipped })}/>\n    </testcase>`;
  return `${open}/>`;
}

export function renderJunit(rounds: readonly RoundSummary[]): string {
  const suites = rounds.map((round) => {
    const cases = casesOf(round);
    const count = (k: "failure" | "error" | "skipped") =>
      cases.filter((c) => c[k] !== undefined).length;
    return {
      round,
      cases,
      counts: {
        tests: cases.length,
        failures: count("failure"),
        errors: count("error"),
        skipped: count("skipped"),
      },
      time: cases.reduce((t, c) => t + c.time, 0),
    };
  });
  const total = (k: "tests" | "failures" | "errors" | "skipped") =>
    suites.reduce((n, s) => n + s.counts[k], 0);
  const body = suites.map(({ round, cases, counts, time }) =>
    [
      `  <testsuite${attrs({ name: `${round.report.target} ${round.report.round}`, ...counts, time: time.toFixed(3) })}>`,
      `    <properties>`,
      `      <property${attrs({ name: "seed", value: round.report.seed })}/>`,
      `    </properties>`,
      ...cases.map((c) => renderCase(round.report.target, c)),
      `  </testsuite>`,
    ].join("\n"),
  );
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites${attrs({ name: "chaos-monkey", tests: total("tests"), failures: total("failures"), errors: total("errors"), skipped: total("skipped") })}>`,
    ...body,
    `</testsuites>`,
    "",
  ].join("\n");
}
