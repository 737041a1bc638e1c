// Wires the pieces for one config generation (watch caches + recovery tracker) and runs rounds
// on it. A reload starts a new generation; the old one keeps watching until its in-flight
// recoveries end, so nothing in flight is lost (SPEC §4). One journal and one writes gate serve
// every generation: whatever is written, by a round or a recovery of any generation, is written
// only while this process leads and the config in force now is live (SPEC §7.2, §7.5).
import type { Clock } from "../clock.js";
import type { Rng } from "../rng.js";
import type { Config } from "../config/types.js";
import type { KubeClients } from "../kube/client.js";
import { eventSink } from "../kube/events.js";
import { errorFields } from "../kube/errors.js";
import { ClusterView } from "../kube/view.js";
import { Finisher } from "../kill/finisher.js";
import { killer } from "../kill/killer.js";
import { recheckConsumer, recheckVictim, protectedNow } from "../kill/recheck.js";
import { volumeApi } from "../kill/volume.js";
import { configMapJournalStore, Journal } from "../kube/journal.js";
import type { Logger } from "../observe/logger.js";
import type { Metrics } from "../observe/metrics.js";
import { RecoveryTracker } from "../recover/tracker.js";
import type { Phase, RecoveryResult, Victim } from "../recover/types.js";
import { ProbeLoop } from "../probe/loop.js";
import type { Self } from "../select/candidate.js";
import { candidateKey } from "../select/candidate.js";
import { runRound } from "./round.js";
import { recoveryNotifications, roundNotification } from "./announce.js";
import type { Announce } from "./announce.js";
import type { Killer } from "../kill/types.js";
import type { RoundReport, RoundRequest, RoundJournal } from "./round-types.js";
import { LOG } from "../observe/messages.js";

export interface MonkeyDeps {
  readonly clients: KubeClients;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly self: Self;
  /** Reported as the Events' reportingInstance and the Lease holder. */
  readonly identity: string;
  readonly isLeader: (config: Config) => boolean;
  /** The Lease's writes gate: a `done` callback while this process leads, else undefined. */
  readonly beginWrite: () => (() => void) | undefined;
  /** Hands a notification to the sinks (never waits for them). */
  readonly announce?: Announce;
  /** Backoff jitter of the watch caches, and new round seeds (never a round's own choices). */
  readonly rng: Rng;
}

interface Generation {
  readonly config: Config;
  readonly view: ClusterView;
  readonly tracker: RecoveryTracker;
  /** One steady-state probe loop per target that has probes, shared by its victims. */
  readonly probes: ReadonlyMap<string, ProbeLoop>;
}

export class Monkey {
  private current: Generation | undefined;
  private readonly generations = new Set<Generation>();
  /** Victims this process is killing right now: journalled, not yet handed to recovery. */
  private readonly inProgress = new Set<string>();
  /** Deleted by this process with a strip left for the finisher and no recovery to follow. */
  private readonly toFinish = new Set<string>();
  private readonly finisher: Finisher;
  private readonly journal: Journal;

  constructor(private readonly deps: MonkeyDeps) {
    this.journal = new Journal(
      configMapJournalStore(deps.clients.core, deps.self.namespace),
      this.gate,
    );
    this.finisher = new Finisher({
      journal: this.journal,
      forget: (uids) => {
        for (const u of uids) this.toFinish.delete(u);
        return this.journal.forget(uids);
      },
      api: (kind) => volumeApi(deps.clients.core, kind),
      clock: deps.clock,
      gate: this.gate,
      log: deps.log,
      metrics: deps.metrics,
      busy: (uid) => this.inProgress.has(uid),
      tracked: (uid) => this.tracked(uid),
      interrupted: (uid) => !this.tracked(uid) && !this.toFinish.has(uid),
      protectedNow: (entry, obj, config) => protectedNow(this.recheckDeps(config), entry, obj),
    });
  }

  /**
   * Asked before every write: this process leads, and the config in force now is live. A reload
   * to dry-run stops the writes of rounds and recoveries already under way.
   */
  readonly gate = (): (() => void) | undefined => {
    const config = this.current?.config;
    if (!config || config.dryRun) return undefined;
    return this.deps.beginWrite();
  };

  private recheckDeps(config: Config, view = this.current?.view) {
    if (!view) throw new Error("no config loaded");
    return {
      core: this.deps.clients.core,
      view,
      config,
      self: this.deps.self,
      clock: this.deps.clock,
    };
  }

  private killerFor(gen: Generation): Killer {
    return killer({
      core: this.deps.clients.core,
      gate: this.gate,
      log: this.deps.log,
      metrics: this.deps.metrics,
      recheckConsumer: (p) => recheckConsumer(this.recheckDeps(gen.config, gen.view), p),
      volume: (name) => gen.view.volume(name),
    });
  }

  private readonly roundJournal: RoundJournal = {
    record: async (target, tickMs, entries) => {
      for (const e of entries) this.inProgress.add(e.uid);
      try {
        const ok = await this.journal.recordRound(target, tickMs, entries);
        if (!ok) for (const e of entries) this.inProgress.delete(e.uid);
        return ok;
      } catch (err) {
        for (const e of entries) this.inProgress.delete(e.uid);
        throw err;
      }
    },
    settled: (uid, how) => {
      this.inProgress.delete(uid);
      if (how === "done") this.forget([uid]);
      if (how === "finish") this.toFinish.add(uid);
    },
  };

  private tracked(uid: string): boolean {
    return [...this.generations].some((g) => g.tracker.tracks(uid));
  }

  private forget(uids: string[]): void {
    for (const u of uids) this.toFinish.delete(u);
    this.journal.forget(uids).catch((err: unknown) => {
      // Left in the journal, the entry is finished (or counted aborted) by the next sweep.
      this.deps.log.warn({ ...errorFields(err), uids }, "journal entry not removed");
    });
  }

  /**
   * Finishes what an interrupted process left (SPEC §7.4) from the journal: strips and aborted
   * recoveries. Only the leader writes; dry-run writes nothing, not even a read of the journal.
   */
  async finishInterrupted(): Promise<void> {
    const gen = this.current;
    if (!gen || gen.config.dryRun || !this.deps.isLeader(gen.config)) return;
    try {
      await this.finisher.sweep(gen.config);
    } catch (err) {
      this.deps.metrics.error("journal");
      this.deps.log.warn(errorFields(err), "journal not read; will retry");
    }
  }

  /** A new leader reads the journal as the server has it before its first round. */
  async onLeading(): Promise<void> {
    try {
      await this.journal.load();
    } catch (err) {
      this.deps.metrics.error("journal");
      this.deps.log.warn(errorFields(err), "journal not read; will retry");
    }
    await this.finishInterrupted();
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
    const probes = this.probeLoops(config);
    const tracker = new RecoveryTracker(view, this.deps.clock, this.trackerHooks(), (t) =>
      probes.get(t.name),
    );
    const gen: Generation = { config, view, tracker, probes };
    this.generations.add(gen);
    // A Terminating volume changing (or appearing after a restart) may be an interrupted strip.
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
      onPhase: (v: Victim, phase: Phase, seconds: number) => {
        metrics.recoveryPhase({
          target: v.target.name,
          kind: v.kind,
          namespace: v.namespace,
          phase,
          seconds,
        });
        log.info({ ...fields(v), phase, seconds }, LOG.RECOVERY_PHASE);
      },
      onEnd: (r: RecoveryResult) => {
        metrics.recoveryOutcome(r.victim.target.name, r.victim.kind, r.outcome);
        metrics.decInFlight(r.victim.target.name);
        if (r.disruptionSeconds !== undefined && r.outcome === "recovered")
          metrics.disruption(r.victim.target.name, r.disruptionSeconds);
        if (r.objectiveMissed) metrics.objectiveMiss(r.victim.target.name);
        for (const n of recoveryNotifications(r)) this.deps.announce?.(n);
        // Done: off the journal. Aborted here by a shutdown, it is counted here; only a volume
        // whose strip may be unfinished stays for the next leader to finish (SPEC §7.4).
        const strip = r.victim.kind !== "Pod" && r.victim.target.action.stripFinalizers.length > 0;
        if (r.outcome !== "aborted" || !strip) this.forget([r.victim.uid]);
        log.info(
          {
            ...fields(r.victim),
            outcome: r.outcome,
            phases: r.phases,
            ...(r.disruptionSeconds === undefined
              ? {}
              : { disruptionSeconds: r.disruptionSeconds }),
            ...(r.notSteady ? { notSteady: r.notSteady } : {}),
            objectiveMissed: r.objectiveMissed,
          },
          LOG.RECOVERY_ENDED,
        );
      },
    };
  }

  private async retireWhenIdle(gen: Generation): Promise<void> {
    if (gen.tracker.size > 0) return; // retired by the last recovery's end (see track)
    this.generations.delete(gen);
    for (const loop of gen.probes.values()) loop.close();
    await gen.view.stop();
  }

  /** The probe loops of a config's targets; each check is counted and failures are logged. */
  private probeLoops(config: Config): Map<string, ProbeLoop> {
    const loops = new Map<string, ProbeLoop>();
    for (const t of config.targets) {
      const steady = t.steadyState;
      if (!steady || steady.probes.length === 0) continue;
      loops.set(
        t.name,
        new ProbeLoop(steady, {
          clock: this.deps.clock,
          onCheck: (probe, outcome) => {
            this.deps.metrics.probeCheck(t.name, probe.name, outcome.result);
            if (outcome.result !== "pass")
              this.deps.log.info(
                {
                  target: t.name,
                  probe: probe.name,
                  result: outcome.result,
                  reason: outcome.reason,
                },
                "probe check failed",
              );
          },
        }),
      );
    }
    return loops;
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
    // The target as the current config has it (a reload may have changed it since it was scheduled).
    const target = gen.config.targets.find((t) => t.name === req.target.name) ?? req.target;
    const report = await this.runRound(gen, { ...req, target });
    const n = roundNotification(report, { dryRun: gen.config.dryRun, atMs: this.deps.clock.now() });
    if (n) this.deps.announce?.(n);
    return report;
  }

  private runRound(gen: Generation, req: Omit<RoundRequest, "config">): Promise<RoundReport> {
    return runRound(
      { ...req, config: gen.config },
      {
        view: gen.view,
        tracker: this.recoveries,
        kill: this.killerFor(gen),
        gate: this.gate,
        journal: this.roundJournal,
        steadyBefore: (target) => gen.probes.get(target.name)?.checkOnce(),
        recheck: (victim, target) =>
          recheckVictim(this.recheckDeps(gen.config, gen.view), victim, target),
        emit: eventSink(this.deps.clients.events, this.deps.identity, () => this.deps.clock.now()),
        metrics: this.deps.metrics,
        log: this.deps.log,
        clock: this.deps.clock,
        rng: this.deps.rng,
        self: this.deps.self,
        isLeader: this.deps.isLeader,
      },
    );
  }

  /** Ends every open recovery as aborted, writes that down, and stops all watches. */
  async stop(): Promise<void> {
    for (const g of this.generations) g.tracker.abortAll();
    for (const g of this.generations) for (const loop of g.probes.values()) loop.close();
    await this.journal.idle();
    await Promise.all([...this.generations].map((g) => g.view.stop()));
    this.generations.clear();
    this.current = undefined;
  }
}
