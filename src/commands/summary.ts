// The verdict `once` prints: one line per victim (or per skipped round), as a table or JSON.
import type { RoundReport } from "../engine/round.js";
import type { RecoveryResult } from "../recover/types.js";

export interface RoundSummary {
  readonly report: RoundReport;
  readonly recoveries: readonly RecoveryResult[];
}

const secs = (s: number | undefined) => (s === undefined ? "-" : `${s.toFixed(3)}s`);

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
      ]);
      continue;
    }
    for (const v of report.victims) {
      const r = recoveries.find(
        (x) => x.victim.namespace === v.namespace && x.victim.name === v.name,
      );
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
        r?.outcome ?? "-",
      ]);
    }
  }
  return out;
}

export function renderSummary(rounds: readonly RoundSummary[], format: "table" | "json"): string {
  if (format === "json")
    return JSON.stringify(
      rounds.map(({ report, recoveries }) => ({
        target: report.target,
        round: report.round,
        seed: report.seed,
        skipped: report.skipped ?? null,
        failed: report.failed,
        eligible: report.eligible,
        victims: report.victims.map((v) => {
          const r = recoveries.find(
            (x) => x.victim.namespace === v.namespace && x.victim.name === v.name,
          );
          return { ...v, outcome: r?.outcome ?? null, phases: r?.phases ?? {} };
        }),
      })),
      null,
      2,
    );
  const header = [
    "TARGET",
    "ROUND",
    "SEED",
    "VICTIM",
    "RESULT",
    "REPLACED",
    "READY",
    "RECOVERED",
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
