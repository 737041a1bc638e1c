// When is a victim's service steady again, and how long was it disrupted (SPEC §3)? Pure: fed
// the rounds of probe checks that came after the kill, and whether the workload was whole then.
//   steady:     the workload is whole and every probe has passed `successThreshold` checks in a
//               row (passes before the kill do not count);
//   disruption: the time probes spent failing between the kill and steady — from the check that
//               first showed a failure to the check that showed every probe passing again, so
//               its resolution is the probe interval.
import type { CheckRound } from "../probe/loop.js";

export class SteadyWatch {
  private readonly streaks = new Map<string, number>();
  private readonly everPassed = new Set<string>();
  private failingSince: number | undefined;
  private disruptedMs = 0;
  private steadyAtMs: number | undefined;

  constructor(
    private readonly probes: readonly string[],
    private readonly threshold: number,
  ) {
    for (const p of probes) this.streaks.set(p, 0);
  }

  /** Feeds one round of checks; returns the steady time when this round reached it. */
  observe(round: CheckRound, whole: boolean): number | undefined {
    if (this.steadyAtMs !== undefined) return undefined;
    for (const c of round.checks) {
      const pass = c.outcome.result === "pass";
      this.streaks.set(c.probe, pass ? (this.streaks.get(c.probe) ?? 0) + 1 : 0);
      if (pass) this.everPassed.add(c.probe);
    }
    const failing = round.checks.some((c) => c.outcome.result !== "pass");
    if (failing) this.failingSince ??= round.atMs;
    else if (this.failingSince !== undefined) {
      this.disruptedMs += round.atMs - this.failingSince;
      this.failingSince = undefined;
    }
    const streaksMet = this.probes.every((p) => (this.streaks.get(p) ?? 0) >= this.threshold);
    if (whole && streaksMet) this.steadyAtMs = round.atMs;
    return this.steadyAtMs;
  }

  /** Milliseconds of disruption up to `nowMs` (a failure still open counts up to now). */
  disruptionMs(nowMs: number): number {
    const open = this.failingSince === undefined ? 0 : Math.max(0, nowMs - this.failingSince);
    return this.disruptedMs + open;
  }

  /** Probes that have not passed a single check since the kill. */
  neverPassed(): string[] {
    return this.probes.filter((p) => !this.everPassed.has(p));
  }

  /** Probes whose streak is short of the threshold now. */
  notSteady(): string[] {
    return this.probes.filter((p) => (this.streaks.get(p) ?? 0) < this.threshold);
  }
}
