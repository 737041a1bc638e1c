// Open recoveries, advanced by watch events (never by polling): each event re-evaluates the
// victims it may concern and stamps a phase with the event's arrival time the first time the
// phase holds. With steady-state probes, a whole workload is not the end: the victim follows its
// target's probe loop until every probe has passed its streak (phase `steady`), and its
// disruption is the time the probes spent failing. A timer per victim ends it as a timeout;
// shutdown ends the rest as aborted.
import type { V1Pod } from "@kubernetes/client-node";
import type { Clock } from "../clock.js";
import type { InformerEvent } from "../kube/informer.js";
import type { ClusterView } from "../kube/view.js";
import type { Target } from "../config/types.js";
import type { CheckRound, ProbeLoop } from "../probe/loop.js";
import { podProgress } from "./pod.js";
import { SteadyWatch } from "./steady.js";
import { volumeProgress } from "./volume.js";
import type { Outcome, Phase, Progress, RecoveryResult, Victim } from "./types.js";
import { lastPhaseSeconds, PHASES } from "./types.js";
import { claimProgress } from "./claim.js";
import type { VolumeView } from "./claim.js";

/** What the tracker reads of the caches and the events it follows (ClusterView; fakes in tests). */
export type TrackerView = Pick<
  ClusterView,
  "onWorkloadEvent" | "onAnyEvent" | "onPodEvent" | "workloadPods" | "workload"
> &
  VolumeView;

export interface TrackerHooks {
  onPhase?(victim: Victim, phase: Phase, seconds: number): void;
  onEnd?(result: RecoveryResult): void;
}

interface Open {
  readonly victim: Victim;
  readonly phases: Partial<Record<Phase, number>>;
  readonly timer: AbortController;
  readonly resolve: (r: RecoveryResult) => void;
  /** With probes: the victim's view of its target's checks since the kill. */
  readonly steady?: SteadyWatch;
  unfollow?: () => void;
  /** The workload is whole right now (it may degrade again before steady). */
  whole: boolean;
}

export class RecoveryTracker {
  private readonly open = new Set<Open>();
  private readonly subscribed = new Set<string>();

  constructor(
    private readonly view: TrackerView,
    private readonly clock: Clock,
    private readonly hooks: TrackerHooks = {},
    /** The target's shared probe loop, when it has steady-state probes. */
    private readonly probes: (target: Target) => ProbeLoop | undefined = () => undefined,
  ) {
    // Each event re-evaluates only the victims it can concern: a pod victim's workload events,
    // and every event for volume victims (claims, volumes, consumers and workloads alike; the
    // workload caches are among them, so volume victims are not evaluated twice).
    // A pod victim's workload and pods live in its namespace: events elsewhere cannot concern it.
    view.onWorkloadEvent((_kind, e) => {
      const ns = e.object.metadata?.namespace;
      this.evaluateWhere(e.atMs, (v) => v.kind === "Pod" && v.namespace === ns);
    });
    view.onAnyEvent((e) => this.evaluateWhere(e.atMs, (v) => v.kind !== "Pod"));
  }

  inFlight(target: string): number {
    let n = 0;
    for (const o of this.open) if (o.victim.target.name === target) n++;
    return n;
  }

  /** Is a victim with this uid being followed here? */
  tracks(uid: string): boolean {
    for (const o of this.open) if (o.victim.uid === uid) return true;
    return false;
  }

  get size(): number {
    return this.open.size;
  }

  /** Follows one victim until it recovers, times out, its workload goes, or abortAll(). */
  track(victim: Victim): Promise<RecoveryResult> {
    this.subscribe(victim.target.name);
    return new Promise((resolve) => {
      const loop = this.probes(victim.target);
      const probes = victim.target.steadyState?.probes.map((p) => p.name) ?? [];
      const o: Open = {
        victim,
        phases: {},
        timer: new AbortController(),
        resolve,
        whole: false,
        ...(loop && probes.length > 0
          ? { steady: new SteadyWatch(probes, victim.target.steadyState?.successThreshold ?? 1) }
          : {}),
      };
      this.open.add(o);
      if (loop && o.steady) o.unfollow = loop.follow((round) => this.onChecks(o, round));
      this.clock
        .sleep(
          Math.max(0, victim.killedAtMs + victim.target.recoveryTimeoutMs - this.clock.now()),
          o.timer.signal,
        )
        .then(
          () => this.finish(o, "timeout", this.clock.now()),
          () => undefined,
        );
      // The replacement may already be there (controllers react within milliseconds of a kill).
      this.evaluate(o, Math.max(victim.killedAtMs, this.clock.now()));
    });
  }

  abortAll(): void {
    const now = this.clock.now();
    for (const o of [...this.open]) this.finish(o, "aborted", now);
  }

  private subscribe(target: string): void {
    if (this.subscribed.has(target)) return;
    this.subscribed.add(target);
    this.view.onPodEvent(target, (e: InformerEvent<V1Pod>) => {
      const ns = e.object.metadata?.namespace;
      this.evaluateWhere(
        e.atMs,
        (v) => v.kind === "Pod" && v.target.name === target && v.namespace === ns,
      );
    });
  }

  private evaluateWhere(atMs: number, concerns: (v: Victim) => boolean): void {
    for (const o of [...this.open]) if (concerns(o.victim)) this.evaluate(o, atMs);
  }

  private progress(v: Victim): Progress {
    if (v.kind === "PersistentVolumeClaim") return claimProgress(v, this.view);
    if (v.kind === "PersistentVolume") return volumeProgress(v, this.view);
    const pods = v.owner ? this.view.workloadPods(v.target.name, v.owner) : [];
    return podProgress(v, pods, this.view.workload);
  }

  private stamp(o: Open, phase: Phase, atMs: number): void {
    if (o.phases[phase] !== undefined) return;
    const seconds = Math.max(0, atMs - o.victim.killedAtMs) / 1000;
    o.phases[phase] = seconds;
    this.hooks.onPhase?.(o.victim, phase, seconds);
  }

  private evaluate(o: Open, atMs: number): void {
    const p = this.progress(o.victim);
    if (p.gone) return this.finish(o, "gone", atMs);
    for (const phase of PHASES) if (p[phase]) this.stamp(o, phase, atMs);
    o.whole = p.recovered;
    // With probes the workload being whole is not the end: steady is (onChecks).
    if (p.recovered && !o.steady) this.finish(o, "recovered", atMs);
  }

  /** A round of the target's probe checks: is this victim steady now? */
  private onChecks(o: Open, round: CheckRound): void {
    if (!this.open.has(o) || !o.steady || round.atMs < o.victim.killedAtMs) return;
    const steadyAt = o.steady.observe(round, o.whole);
    if (steadyAt === undefined) return;
    this.stamp(o, "steady", steadyAt);
    this.finish(o, "recovered", steadyAt);
  }

  private finish(o: Open, outcome: Outcome, atMs: number): void {
    if (!this.open.delete(o)) return;
    o.timer.abort();
    o.unfollow?.();
    const phases = { ...o.phases };
    const objectiveMs = o.victim.target.recoveryObjectiveMs;
    const result: RecoveryResult = {
      victim: o.victim,
      outcome,
      phases,
      endedAtMs: atMs,
      ...(o.steady ? { disruptionSeconds: o.steady.disruptionMs(atMs) / 1000 } : {}),
      ...(o.steady && outcome !== "recovered" ? { notSteady: o.steady.notSteady() } : {}),
      objectiveMissed:
        objectiveMs !== undefined &&
        (outcome === "timeout" ||
          (outcome === "recovered" && lastPhaseSeconds(phases) * 1000 > objectiveMs)),
    };
    this.hooks.onEnd?.(result);
    o.resolve(result);
  }
}
