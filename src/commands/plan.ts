// chaos-monkey plan: read-only. The next fire times per target in its zone (blackouts marked),
// the objects eligible right now, and with --seed the victims a round would pick.
import seedrandom from "seedrandom";
import { systemClock, withDeadline } from "../clock.js";
import { preflight } from "../kube/preflight.js";
import type { Config, Target } from "../config/types.js";
import { decide } from "../engine/round.js";
import { ClusterView } from "../kube/view.js";
import { activeWindow, isActive, nextActive } from "../schedule/active.js";
import { inBlackout } from "../schedule/blackout.js";
import { nextFires, parseSchedule } from "../schedule/cron.js";
import { candidateKey } from "../select/candidate.js";
import { connectCluster, EXIT, loadConfigFile } from "./common.js";
import type { CommonOptions, Env, Io } from "./common.js";

export interface PlanOptions extends CommonOptions {
  readonly count: number;
  /** --from: list fire times after this instant (epoch ms) instead of after now. */
  readonly fromMs?: number;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an RFC 3339 date-time (`2026-03-29T00:30:00+01:00`, `...Z`) into epoch ms; undefined
 * when the text is not one or names a day or time that does not exist (Feb 30, 24:00).
 */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offset = offsetMinutes(m);
  if (offset === undefined || !dateExists(y, mo, d) || h > 23 || mi > 59 || s > 59)
    return undefined;
  const frac = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  return Date.UTC(y, mo - 1, d, h, mi, s, frac) - offset * 60_000;
}

const dateExists = (y: number, mo: number, d: number): boolean =>
  mo >= 1 && mo <= 12 && d >= 1 && d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();

/** The zone offset of an RFC3339 match in minutes east of UTC; undefined when out of range. */
function offsetMinutes(m: RegExpExecArray): number | undefined {
  if (m[8]) return 0;
  const h = Number(m[10]);
  const mi = Number(m[11]);
  if (h > 23 || mi > 59) return undefined;
  return (m[9] === "-" ? -1 : 1) * (h * 60 + mi);
}

export function formatInZone(ms: number, zone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
    timeZoneName: "short",
  }).formatToParts(new Date(ms));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")} ${get("hour")}:${get("minute")}:${get("second")} ${get("timeZoneName")}`;
}

/** The schedule part of the plan: pure, no cluster. */
export function planFires(
  config: Config,
  target: Target,
  window: { nowMs: number; count: number },
): string[] {
  const parsed = parseSchedule(target.schedule);
  if (!parsed.ok) return [`  invalid schedule: ${parsed.error}`];
  return nextFires({
    schedule: parsed.schedule,
    after: new Date(window.nowMs),
    zone: target.timezone,
    count: window.count,
  }).map((d) => {
    const blackout = inBlackout(config.safety.blackout, d, target.timezone);
    return `    ${formatInZone(d.getTime(), target.timezone)}${blackout ? "  BLACKOUT (skipped)" : ""}`;
  });
}

export async function planCommand(opts: PlanOptions, env: Env, io: Io): Promise<number> {
  const config = loadConfigFile(opts.config, opts.dryRun, env);
  const cluster = connectCluster(opts, env);
  const clock = systemClock;
  await preflight(cluster.clients.kc, clock);
  const view = new ClusterView({ kc: cluster.clients.kc, config, clock, rng: seedrandom() });
  view.start();
  try {
    await withDeadline(clock, view.waitForSync(), 60_000, "watch caches did not sync");
    const nowMs = clock.now();
    const lines: string[] = [
      `config ${opts.config}: ${config.dryRun ? "dry run" : "LIVE"}${config.paused ? ", PAUSED" : ""}`,
    ];
    for (const target of config.targets)
      lines.push("", ...planTarget({ config, target, view, nowMs, opts, self: cluster.self }));
    io.out(lines.join("\n"));
    return EXIT.ok;
  } finally {
    await view.stop();
  }
}

function planTarget(input: {
  config: Config;
  target: Target;
  view: ClusterView;
  nowMs: number;
  opts: PlanOptions;
  self: Parameters<typeof decide>[0]["self"];
}): string[] {
  const { target, opts } = input;
  const seed = opts.seed ?? input.config.seed;
  const sel = decide({
    target,
    config: input.config,
    view: input.view,
    self: input.self,
    seed: seed || "plan",
    nowMs: input.nowMs,
  });
  const excluded = [...sel.excluded].map(([r, n]) => `${r} ${n}`).join(", ");
  return [
    `target ${target.name}: ${target.kind}, schedule "${target.schedule}" in ${target.timezone}, mode ${target.mode}${target.mode === "one" || target.mode === "all" ? "" : ` ${target.value}`}`,
    ...planRecovery(target),
    `  ${activeLine(input.config, target, input.nowMs)}`,
    `  next ${opts.count} fire times${opts.fromMs === undefined ? "" : ` from ${formatInZone(opts.fromMs, target.timezone)}`}:`,
    ...planFires(input.config, target, { nowMs: opts.fromMs ?? input.nowMs, count: opts.count }),
    `  eligible now: ${sel.eligible.length}${excluded ? ` (excluded: ${excluded})` : ""}`,
    ...sel.eligible
      .map(candidateKey)
      .sort()
      .map((k) => `    ${k}`),
    seed
      ? `  victims with seed "${seed}": ${sel.victims.map(candidateKey).join(", ") || "none"}${sel.drops.length ? ` (dropped: ${sel.drops.map((d) => `${candidateKey(d.candidate)} ${d.reason}`).join(", ")})` : ""}`
      : "  victims: pass --seed to see the ones a round would pick",
  ];
}

/** The recovery settings a round of the target is judged by: timeout, objective, probes. */
export function planRecovery(target: Target): string[] {
  const objective =
    target.recoveryObjectiveMs === undefined
      ? "no objective"
      : `objective ${target.recoveryObjectiveMs / 1000}s`;
  const lines = [`  recovery: timeout ${target.recoveryTimeoutMs / 1000}s, ${objective}`];
  const steady = target.steadyState;
  if (!steady) return [...lines, "  steady state: no probes (recovered = the workload whole)"];
  lines.push(
    `  steady state: every ${steady.intervalMs / 1000}s, ${steady.successThreshold} pass(es) in a row${steady.before ? ", checked before the kill" : ""}`,
  );
  for (const p of steady.probes)
    lines.push(
      p.http
        ? `    probe ${p.name}: ${p.http.method} ${p.http.shownUrl} expects ${p.http.expectStatus.map((r) => (r.min === r.max ? String(r.min) : `${r.min}-${r.max}`)).join(", ")}${p.http.bodyContains ? ` and ${JSON.stringify(p.http.bodyContains)}` : ""}`
        : `    probe ${p.name}: ${p.prometheus.shownUrl} ${p.prometheus.query} ${p.prometheus.below === undefined ? `> ${p.prometheus.above ?? "?"}` : `< ${p.prometheus.below}`}`,
    );
  return lines;
}

/** Whether a round would run now, and if not, when it next could. */
export function activeLine(config: Config, target: Target, nowMs: number): string {
  const window = activeWindow(config, target);
  if (isActive(window, new Date(nowMs))) return "active now";
  const next = nextActive(window, new Date(nowMs));
  if (config.paused) return "not active: paused";
  return next
    ? `not active now (blackout); next active ${formatInZone(next.getTime(), target.timezone)}`
    : "not active within the next 14 days (blackout)";
}
