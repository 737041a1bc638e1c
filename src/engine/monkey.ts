// Wires the pieces for one config generation (watch caches + recovery tracker) and runs rounds
// on it. A reload starts a new generation; the old one keeps watching until its in-flight
// recoveries end, so nothing in flight is lost (SPEC §4).
import type { Clock } from "../clock.js";
import type { Config } from "../config/types.js";
import type { KubeClients } from "../kube/client.js";
import { eventSink } from "../kube/events.js";
import { errorFields } from "../kube/errors.js";
import { ClusterView } from "../kube/view.js";
import { Finisher } from "../kill/finisher.js";
import { killPod } from "../kill/pod.js";
import type { PodRef } from "../kill/pod.js";
import { killVolume, volumeApi } from "../kill/volume.js";
import type { Logger } from "../observe/logger.js";
import type { Metrics } from "../observe/metrics.js";
import { RecoveryTracker } from "../recover/tracker.js";
import type { RecoveryResult, Victim } from "../recover/types.js";
import type { Self } from "../select/candidate.js";
import type { Target } from "../config/types.js";
import { candidateKey } from "../select/candidate.js";
import { runRound } from "./round.js";
import type { RoundReport, RoundRequest } from "./round.js";
import type { Killer } from "./victim.js";

export interface MonkeyDeps {
  readonly clients: KubeClients;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly self: Self;
  /** Reported as the Events' reportingInstance and the Lease holder. */
  readonly identity: string;
  readonly isLeader: (config: Config) => boolean;
  /** Backoff jitter of the watch caches (not a round's seeded generator). */
  readonly rng: () => number;
}

interface Generation {
  readonly config: Config;
  readonly view: ClusterView;
  readonly tracker: RecoveryTracker;
}

export class Monkey {
  private current: Generation | undefined;
  private readonly generations = new Set<Generation>();
  /** Volumes this process is killing right now (the finisher leaves them alone). */
  private readonly inProgress = new Set<string>();
  private readonly finisher: Finisher;

  constructor(private readonly deps: MonkeyDeps) {
    this.finisher = new Finisher({
      core: deps.clients.core,
      log: deps.log,
      metrics: deps.metrics,
      busy: (uid) => this.inProgress.has(uid),
      tracked: (uid) => [...this.generations].some((g) => g.tracker.tracks(uid)),
    });
  }

  private killerFor(view: ClusterView): Killer {
    const { core } = this.deps.clients;
    return async ({ victim, target, round, consumers }) => {
      if (victim.kind === "Pod") return killPod(core, victim, target.action);
      this.inProgress.add(victim.uid);
      try {
        return await killVolume(
          {
            api: volumeApi(core, victim.kind),
            killPod: (p: PodRef) => killPod(core, p, consumerAction(target)),
            log: this.deps.log,
            metrics: this.deps.metrics,
          },
          {
            victim,
            target,
            round,
            consumers,
            volume: victim.kind === "PersistentVolume" ? view.volume(victim.name) : undefined,
          },
        );
      } finally {
        this.inProgress.delete(victim.uid);
      }
    };
  }

  /**
   * Finishes interrupted strips (SPEC §7.4) seen in the current caches. Only the leader writes;
   * dry-run writes nothing.
   */
  async finishInterrupted(): Promise<void> {
    const gen = this.current;
    if (!gen || gen.config.dryRun || !this.deps.isLeader(gen.config)) return;
    await this.finisher.sweep(() => gen.view.volumeObjects());
  }

  get config(): Config | undefined {
    return this.current?.config;
  }

  /** Config loaded and every watch cache of the current generation synced. */
  get ready(): boolean {
    return this.current?.view.synced ?? false;
  }

  get reconnects(): number {
    return [...this.generations].reduce((n, g) => n + g.view.reconnects, 0);
  }

  /** Starts a generation for `config` and makes it current once its caches are synced. */
  async load(config: Config, signal?: AbortSignal): Promise<void> {
    const view = new ClusterView({
      kc: this.deps.clients.kc,
      config,
      clock: this.deps.clock,
      rng: this.deps.rng,
      onError: (what, err) => {
        this.deps.metrics.error("watch");
        this.deps.log.warn({ ...errorFields(err), what }, "watch failed; retrying with backoff");
      },
    });
    const tracker = new RecoveryTracker(view, this.deps.clock, this.trackerHooks());
    const gen: Generation = { config, view, tracker };
    this.generations.add(gen);
    // A marked volume changing (or appearing after a restart) may be an interrupted strip.
    view.onAnyEvent((e) => {
      if (this.current === gen && e.object.metadata?.deletionTimestamp)
        void this.finishInterrupted();
    });
    view.start();
    await view.waitForSync(signal);
    const old = this.current;
    this.current = gen;
    await this.finishInterrupted();
    this.deps.metrics.setDryRun(config.dryRun);
    if (old) await this.retireWhenIdle(old);
  }

  private trackerHooks() {
    const { metrics, log } = this.deps;
    const fields = (v: Victim) => ({
      round: v.round,
      target: v.target.name,
      seed: v.seed,
      victim: candidateKey(v),
    });
    return {
      onPhase: (v: Victim, phase: "replaced" | "ready" | "recovered", seconds: number) => {
        metrics.recoveryPhase({
          target: v.target.name,
          kind: v.kind,
          namespace: v.namespace,
          phase,
          seconds,
        });
        log.info({ ...fields(v), phase, seconds }, "recovery phase reached");
      },
      onEnd: (r: RecoveryResult) => {
        metrics.recoveryOutcome(r.victim.target.name, r.victim.kind, r.outcome);
        metrics.decInFlight(r.victim.target.name);
        log.info({ ...fields(r.victim), outcome: r.outcome, phases: r.phases }, "recovery ended");
      },
    };
  }

  private async retireWhenIdle(gen: Generation): Promise<void> {
    if (gen.tracker.size > 0) return; // retired by the last recovery's end (see track)
    this.generations.delete(gen);
    await gen.view.stop();
  }

  private readonly recoveries = {
    inFlight: (target: string) =>
      [...this.generations].reduce((n, g) => n + g.tracker.inFlight(target), 0),
    track: async (victim: Victim): Promise<RecoveryResult> => {
      const gen = this.current;
      if (!gen) throw new Error("no config loaded");
      this.deps.metrics.incInFlight(victim.target.name);
      const result = await gen.tracker.track(victim);
      if (gen !== this.current) await this.retireWhenIdle(gen);
      return result;
    },
  };

  async round(req: Omit<RoundRequest, "config">): Promise<RoundReport> {
    const gen = this.current;
    if (!gen) throw new Error("no config loaded");
    return runRound(
      { ...req, config: gen.config },
      {
        view: gen.view,
        tracker: this.recoveries,
        kill: this.killerFor(gen.view),
        emit: eventSink(this.deps.clients.events, this.deps.identity, () => this.deps.clock.now()),
        metrics: this.deps.metrics,
        log: this.deps.log,
        clock: this.deps.clock,
        self: this.deps.self,
        isLeader: this.deps.isLeader,
      },
    );
  }

  /** Ends every open recovery as aborted and stops all watches. */
  async stop(): Promise<void> {
    for (const g of this.generations) g.tracker.abortAll();
    await Promise.all([...this.generations].map((g) => g.view.stop()));
    this.generations.clear();
    this.current = undefined;
  }
}

/** How consumers of a killed volume are restarted: deleted, with the target's grace period. */
function consumerAction(target: Target) {
  return {
    method: "delete" as const,
    gracePeriodSeconds: target.action.gracePeriodSeconds,
    stripFinalizers: [],
    restartConsumers: false,
  };
}
