// The verdict `once` prints: one line per victim (or per skipped round), as a table, JSON
// (once-result.ts) or JUnit (junit.ts).
import type { RecoveryResult } from "../recover/types.js";
import { renderJunit } from "./junit.js";
import { onceResult } from "./once-result.js";
import { recoveryOf } from "./verdict.js";
import type { RoundSummary } from "./verdict.js";

const secs = (s: number | undefined) => (s === undefined ? "-" : `${s.toFixed(3)}s`);

const outcomeText = (r: RecoveryResult | undefined): string =>
  r ? `${r.outcome}${r.objectiveMissed ? " (objective missed)" : ""}` : "-";

function rows(rounds: readonly RoundSummary[]): string[][] {
  const out: string[][] = [];
  for (const { report, recoveries } of rounds) {
    if (report.victims.length === 0) {
      out.push([
        report.target,
        report.round,
        report.seed,
        "-",
        report.failed ? "failed" : `skipped (${report.skipped ?? "?"})`,
        "-",
        "-",
        "-",
        "-",
        "-",
        "-",
      ]);
      continue;
    }
    for (const v of report.victims) {
      const r = recoveryOf(recoveries, v);
      const victim = v.namespace ? `${v.namespace}/${v.name}` : v.name;
      out.push([
        report.target,
        report.round,
        report.seed,
        `${v.kind} ${victim}`,
        v.result,
        secs(r?.phases.replaced),
        secs(r?.phases.ready),
        secs(r?.phases.recovered),
        secs(r?.phases.steady),
        secs(r?.disruptionSeconds),
        outcomeText(r),
      ]);
    }
  }
  return out;
}

export function renderSummary(
  rounds: readonly RoundSummary[],
  format: "table" | "json" | "junit",
): string {
  if (format === "junit") return renderJunit(rounds);
  if (format === "json") return JSON.stringify(onceResult(rounds), null, 2);
  const header = [
    "TARGET",
    "ROUND",
    "SEED",
    "VICTIM",
    "RESULT",
    "REPLACED",
    "READY",
    "RECOVERED",
    "STEADY",
    "DISRUPTED",
    "OUTCOME",
  ];
  const table = [header, ...rows(rounds)];
  const widths = header.map((_, i) => Math.max(...table.map((r) => (r[i] ?? "").length)));
  return table
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
