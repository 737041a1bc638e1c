// Every metric of SPEC §5 lives here, behind methods named after what happened, so callers
// cannot invent a label value or put an object name into a label by accident.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

const ROUND_OUTCOMES = ["ran", "skipped", "failed"] as const;
export type RoundOutcome = (typeof ROUND_OUTCOMES)[number];
const SKIP_REASONS = [
  "paused",
  "blackout",
  "not_leader",
  "concurrency",
  "no_candidates",
  "unhealthy",
  "not_steady",
  "pdb",
  "cap",
  "cache_unsynced",
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];
export type KillResult = "killed" | "dry_run" | "failed";
export type RecoveryPhase = "replaced" | "ready" | "recovered" | "steady";
export type ProbeResult = "pass" | "fail" | "error";
const RECOVERY_OUTCOMES = ["recovered", "timeout", "gone", "aborted"] as const;
export type RecoveryOutcome = (typeof RECOVERY_OUTCOMES)[number];
export type ReloadResult = "success" | "failure";
const NOTIFICATION_RESULTS = ["sent", "failed", "dropped"] as const;
export type NotificationResult = (typeof NOTIFICATION_RESULTS)[number];

/** Recovery runs from sub-second pod restarts to half-hour volume rebinds. */
export const RECOVERY_BUCKETS: readonly number[] = Object.freeze([
  0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800,
]);
/** Disruption may be none at all: a bucket for 0 first. */
export const DISRUPTION_BUCKETS: readonly number[] = Object.freeze([0, ...RECOVERY_BUCKETS]);

export interface Metrics {
  readonly registry: Registry;
  roundRan(target: string): void;
  /** The whole round was skipped: counts the round and its reason. */
  roundSkipped(target: string, reason: SkipReason): void;
  roundFailed(target: string): void;
  /** Victims passed over inside a round that still ran (pdb, cap, unhealthy). */
  skipped(target: string, reason: SkipReason, count?: number): void;
  kill(target: string, kind: string, namespace: string, result: KillResult): void;
  finalizerStripped(kind: string, finalizer: string): void;
  recoveryPhase(obs: {
    target: string;
    kind: string;
    namespace: string;
    phase: RecoveryPhase;
    seconds: number;
  }): void;
  recoveryOutcome(target: string, kind: string, outcome: RecoveryOutcome): void;
  /** Seconds a victim's steady-state probes spent failing between the kill and steady. */
  disruption(target: string, seconds: number): void;
  /** One check of one steady-state probe. */
  probeCheck(target: string, probe: string, result: ProbeResult): void;
  /** A recovery slower than the target's objective (or timed out with one set). */
  objectiveMiss(target: string): void;
  /** The target's recovery objective, where it has one (undefined removes the series). */
  setObjective(target: string, seconds: number | undefined): void;
  setInFlight(target: string, n: number): void;
  incInFlight(target: string): void;
  /** Never goes below zero, so a double release cannot show negative recoveries. */
  decInFlight(target: string): void;
  setEligible(target: string, n: number): void;
  setLastRound(target: string, epochSeconds: number): void;
  setNextRound(target: string, epochSeconds: number): void;
  error(operation: string): void;
  configReload(result: ReloadResult): void;
  setLeader(isLeader: boolean): void;
  setDryRun(dryRun: boolean): void;
  /** Whether a round of the target would run now: not paused, not inside a blackout window. */
  setActive(target: string, active: boolean): void;
  /** One notification's fate at a sink: delivered, given up on, or dropped from a full queue. */
  notification(sink: string, result: NotificationResult): void;
  /** Creates a configured sink's counters at 0, as declareTarget does for a target. */
  declareSink(sink: string): void;
  /** Drops the per-target gauges of a target no longer in the config; counters keep history. */
  forgetTarget(target: string): void;
  /**
   * Creates a loaded target's counters at 0 (every outcome and skip reason), so a first event
   * shows in a plain increase() instead of appearing from nothing.
   */
  declareTarget(target: string, kind: string): void;
}

export interface MetricsOptions {
  /** Defaults to a fresh Registry: the process-wide default registry is never touched. */
  registry?: Registry;
  version: string;
  /** Adds prom-client's process and Node.js metrics to the same registry. */
  collectDefault?: boolean;
}

const P = "chaos_monkey_";

/**
 * prom-client's gauges that `promtool check metrics` rejects ("non-counter metrics should not
 * have _total suffix"). Each is the sum of a default metric that stays (nodejs_active_handles by
 * type, and so on), so dropping them loses nothing.
 */
const MISNAMED_DEFAULTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
] as const;

export function createMetrics(opts: MetricsOptions): Metrics {
  const registry = opts.registry ?? new Registry();
  const registers = [registry];
  if (opts.collectDefault === true) {
    collectDefaultMetrics({ register: registry });
    for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  }

  const rounds = new Counter({
    name: `${P}rounds_total`,
    help: "Rounds by outcome: ran, skipped or failed.",
    labelNames: ["target", "outcome"] as const,
    registers,
  });
  const skips = new Counter({
    name: `${P}skips_total`,
    help: "Skipped rounds and skipped victims by reason.",
    labelNames: ["target", "reason"] as const,
    registers,
  });
  const kills = new Counter({
    name: `${P}kills_total`,
    help: "Kill attempts by result: killed, dry_run or failed.",
    labelNames: ["target", "kind", "namespace", "result"] as const,
    registers,
  });
  const finalizers = new Counter({
    name: `${P}finalizers_stripped_total`,
    help: "Finalizers removed from killed objects.",
    labelNames: ["kind", "finalizer"] as const,
    registers,
  });
  const recoverySeconds = new Histogram({
    name: `${P}recovery_seconds`,
    help: "Seconds from the kill until each recovery phase was reached.",
    labelNames: ["target", "kind", "namespace", "phase"] as const,
    buckets: [...RECOVERY_BUCKETS],
    registers,
  });
  const recoveries = new Counter({
    name: `${P}recoveries_total`,
    help: "Finished recovery watches by outcome.",
    labelNames: ["target", "kind", "outcome"] as const,
    registers,
  });
  const disruption = new Histogram({
    name: `${P}disruption_seconds`,
    help: "Seconds a victim's steady-state probes spent failing between the kill and steady.",
    labelNames: ["target"] as const,
    buckets: [...DISRUPTION_BUCKETS],
    registers,
  });
  const probeChecks = new Counter({
    name: `${P}probe_checks_total`,
    help: "Steady-state probe checks by result: pass, fail or error.",
    labelNames: ["target", "probe", "result"] as const,
    registers,
  });
  const objective = new Gauge({
    name: `${P}recovery_objective_seconds`,
    help: "The target's recovery objective in seconds (only where one is set).",
    labelNames: ["target"] as const,
    registers,
  });
  const objectiveMisses = new Counter({
    name: `${P}objective_misses_total`,
    help: "Recoveries slower than the target's objective.",
    labelNames: ["target"] as const,
    registers,
  });
  const inFlight = new Gauge({
    name: `${P}recoveries_in_flight`,
    help: "Recoveries currently being watched.",
    labelNames: ["target"] as const,
    registers,
  });
  const eligible = new Gauge({
    name: `${P}eligible_objects`,
    help: "Objects eligible as victims at the last round.",
    labelNames: ["target"] as const,
    registers,
  });
  const lastRound = new Gauge({
    name: `${P}last_round_timestamp_seconds`,
    help: "Unix time of the last round.",
    labelNames: ["target"] as const,
    registers,
  });
  const nextRound = new Gauge({
    name: `${P}next_round_timestamp_seconds`,
    help: "Unix time of the next scheduled round.",
    labelNames: ["target"] as const,
    registers,
  });
  const errors = new Counter({
    name: `${P}errors_total`,
    help: "Errors by operation.",
    labelNames: ["operation"] as const,
    registers,
  });
  const reloads = new Counter({
    name: `${P}config_reloads_total`,
    help: "Config reloads by result.",
    labelNames: ["result"] as const,
    registers,
  });
  const isLeader = new Gauge({
    name: `${P}is_leader`,
    help: "1 while this replica holds the leader lease.",
    registers,
  });
  const dryRun = new Gauge({
    name: `${P}dry_run`,
    help: "1 when running in dry-run mode.",
    registers,
  });
  const active = new Gauge({
    name: `${P}active`,
    help: "1 when a round of the target would run now (not paused, not in a blackout window).",
    labelNames: ["target"] as const,
    registers,
  });
  const notifications = new Counter({
    name: `${P}notifications_total`,
    help: "Notifications by sink and result: sent, failed or dropped.",
    labelNames: ["sink", "result"] as const,
    registers,
  });
  const buildInfo = new Gauge({
    name: `${P}build_info`,
    help: "Always 1; the version label identifies the build.",
    labelNames: ["version"] as const,
    registers,
  });
  buildInfo.set({ version: opts.version }, 1);

  // Tracked here rather than read back from the gauge, whose getter is asynchronous.
  const inFlightCounts = new Map<string, number>();
  const putInFlight = (target: string, n: number): void => {
    const value = Math.max(0, n);
    inFlightCounts.set(target, value);
    inFlight.set({ target }, value);
  };

  return {
    registry,
    roundRan: (target) => rounds.inc({ target, outcome: "ran" }),
    roundSkipped: (target, reason) => {
      rounds.inc({ target, outcome: "skipped" });
      skips.inc({ target, reason });
    },
    roundFailed: (target) => rounds.inc({ target, outcome: "failed" }),
    skipped: (target, reason, count = 1) => skips.inc({ target, reason }, count),
    kill: (target, kind, namespace, result) => kills.inc({ target, kind, namespace, result }),
    finalizerStripped: (kind, finalizer) => finalizers.inc({ kind, finalizer }),
    recoveryPhase: ({ target, kind, namespace, phase, seconds }) =>
      recoverySeconds.observe({ target, kind, namespace, phase }, seconds),
    recoveryOutcome: (target, kind, outcome) => recoveries.inc({ target, kind, outcome }),
    disruption: (target, seconds) => disruption.observe({ target }, seconds),
    probeCheck: (target, probe, result) => probeChecks.inc({ target, probe, result }),
    objectiveMiss: (target) => objectiveMisses.inc({ target }),
    setObjective: (target, seconds) => {
      if (seconds === undefined) objective.remove({ target });
      else objective.set({ target }, seconds);
    },
    setInFlight: putInFlight,
    incInFlight: (target) => putInFlight(target, (inFlightCounts.get(target) ?? 0) + 1),
    decInFlight: (target) => putInFlight(target, (inFlightCounts.get(target) ?? 0) - 1),
    setEligible: (target, n) => eligible.set({ target }, n),
    setLastRound: (target, epochSeconds) => lastRound.set({ target }, epochSeconds),
    setNextRound: (target, epochSeconds) => nextRound.set({ target }, epochSeconds),
    error: (operation) => errors.inc({ operation }),
    configReload: (result) => reloads.inc({ result }),
    setLeader: (leader) => isLeader.set(leader ? 1 : 0),
    setDryRun: (on) => dryRun.set(on ? 1 : 0),
    setActive: (target, on) => active.set({ target }, on ? 1 : 0),
    notification: (sink, result) => notifications.inc({ sink, result }),
    declareSink: (sink) => {
      for (const result of NOTIFICATION_RESULTS) notifications.inc({ sink, result }, 0);
    },
    forgetTarget: (target) => {
      inFlightCounts.delete(target);
      for (const gauge of [inFlight, eligible, lastRound, nextRound, active, objective])
        gauge.remove({ target });
    },
    declareTarget: (target, kind) => {
      for (const outcome of ROUND_OUTCOMES) rounds.inc({ target, outcome }, 0);
      for (const reason of SKIP_REASONS) skips.inc({ target, reason }, 0);
      for (const outcome of RECOVERY_OUTCOMES) recoveries.inc({ target, kind, outcome }, 0);
      objectiveMisses.inc({ target }, 0);
      putInFlight(target, inFlightCounts.get(target) ?? 0);
    },
  };
}
