// Open recoveries, advanced by watch events (never by polling): each event re-evaluates the
// victims it may concern and stamps a phase with the event's arrival time the first time the
// phase holds. A timer per victim ends it as a timeout; shutdown ends the rest as aborted.
import type { V1Pod } from "@kubernetes/client-node";
import type { Clock } from "../clock.js";
import type { InformerEvent } from "../kube/informer.js";
import type { ClusterView } from "../kube/view.js";
import { podProgress } from "./pod.js";
import { claimProgress, volumeProgress } from "./volume.js";
import type { Outcome, Phase, Progress, RecoveryResult, Victim } from "./types.js";
import { PHASES } from "./types.js";

export interface TrackerHooks {
  onPhase?(victim: Victim, phase: Phase, seconds: number): void;
  onEnd?(result: RecoveryResult): void;
}

interface Open {
  readonly victim: Victim;
  readonly phases: Partial<Record<Phase, number>>;
  readonly timer: AbortController;
  readonly resolve: (r: RecoveryResult) => void;
}

export class RecoveryTracker {
  private readonly open = new Set<Open>();
  private readonly subscribed = new Set<string>();

  constructor(
    private readonly view: ClusterView,
    private readonly clock: Clock,
    private readonly hooks: TrackerHooks = {},
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
      const o: Open = { victim, phases: {}, timer: new AbortController(), resolve };
      this.open.add(o);
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

  private evaluate(o: Open, atMs: number): void {
    const p = this.progress(o.victim);
    if (p.gone) return this.finish(o, "gone", atMs);
    const seconds = Math.max(0, atMs - o.victim.killedAtMs) / 1000;
    for (const phase of PHASES) {
      if (!p[phase] || o.phases[phase] !== undefined) continue;
      o.phases[phase] = seconds;
      this.hooks.onPhase?.(o.victim, phase, seconds);
    }
    if (p.recovered) this.finish(o, "recovered", atMs);
  }

  private finish(o: Open, outcome: Outcome, atMs: number): void {
    if (!this.open.delete(o)) return;
    o.timer.abort();
    const result = { victim: o.victim, outcome, phases: { ...o.phases }, endedAtMs: atMs };
    this.hooks.onEnd?.(result);
    o.resolve(result);
  }
}
