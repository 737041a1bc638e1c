// The shapes a round is made of, shared by the round (round.ts), the kill of each victim
// (kill-one.ts) and their callers, so neither file imports the other for them.
import type { Clock } from "../clock.js";
import type { Rng } from "../rng.js";
import type { Config, Target } from "../config/types.js";
import type { EventSink } from "../kube/events.js";
import type { JournalEntry, WriteGate } from "../kube/journal.js";
import type { ClusterView } from "../kube/view.js";
import type { ConsumerKill, Killer, Recheck } from "../kill/types.js";
import type { Logger } from "../observe/logger.js";
import type { Metrics, SkipReason } from "../observe/metrics.js";
import type { CheckRound } from "../probe/loop.js";
import type { RecoveryResult, Victim } from "../recover/types.js";
import type { BaselineView } from "../recover/baseline.js";
import type { Candidate, Self } from "../select/candidate.js";
import type { CandidateView } from "../select/from-view.js";

/** What a round reads of the caches: its candidates, and the baseline of each kill. */
export type RoundView = CandidateView & BaselineView & Pick<ClusterView, "synced">;

/** Where victims go after the kill: the recovery tracker(s) of the running config generations. */
export interface Recoveries {
  inFlight(target: string): number;
  track(victim: Victim): Promise<RecoveryResult>;
}

export interface RoundDeps {
  readonly view: RoundView;
  readonly tracker: Recoveries;
  readonly kill: Killer;
  readonly emit: EventSink;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly clock: Clock;
  /** Draws a round's seed when neither the request nor the config gives one. */
  readonly rng: Rng;
  readonly self: Self;
  /** May this replica act on this config now (the Lease, unless the config is dry-run)? */
  readonly isLeader: (config: Config) => boolean;
  /** Asked before every write (journal, kill, strip, Event): leading, and the config in force live. */
  readonly gate: WriteGate;
  readonly journal: RoundJournal;
  /** The target's steady-state probes, each run once now (undefined: it has none). */
  readonly steadyBefore: (target: Target) => Promise<CheckRound> | undefined;
  /** A fresh read of what a victim's eligibility rests on, right before its kill. */
  readonly recheck: (victim: Candidate, target: Target) => Promise<Recheck>;
}

export interface RoundRequest {
  readonly config: Config;
  readonly target: Target;
  /** The scheduled fire time (or now, for `once`). */
  readonly tickMs: number;
  /** --seed; else config.seed; else a new random seed. */
  readonly seed?: string | undefined;
  /** `once --force`: run despite paused and blackout windows. */
  readonly force?: boolean;
}

export type VictimResult =
  "killed" | "pdb" | "gone" | "changed" | "excluded" | "failed" | "terminating" | "dry_run";
export interface VictimReport {
  readonly kind: Target["kind"];
  readonly namespace: string;
  readonly name: string;
  readonly result: VictimResult;
  readonly message?: string;
  /** Volumes: the consumer pods restarted with the victim, each with its own result. */
  readonly consumers?: readonly ConsumerKill[];
}

export interface RoundReport {
  readonly round: string;
  readonly target: string;
  readonly seed: string;
  readonly skipped: SkipReason | undefined;
  readonly eligible: number;
  readonly victims: readonly VictimReport[];
  readonly failed: boolean;
  /** Settles when every killed victim's recovery has ended. */
  readonly recoveries: Promise<RecoveryResult[]>;
}

/** The round's view of the journal (src/kube/journal.ts), as the monkey wires it. */
export interface RoundJournal {
  /** Records the tick and the entries before the first kill; false: the tick already ran. */
  record(target: string, tickMs: number, entries: readonly JournalEntry[]): Promise<boolean>;
  /**
   * The kill of `uid` is over: handed to recovery ("tracked", off the journal when it ends),
   * nothing killed ("done", off the journal now), or deleted with a strip still to do and no
   * recovery to follow ("finish": the finisher completes the strip, nothing counts aborted).
   */
  settled(uid: string, how: "tracked" | "done" | "finish"): void;
}

/** One round's identity, for its log lines and Events. */
export interface RoundCtx {
  readonly seed: string;
  readonly round: string;
  readonly log: Logger;
}
