// Crash safety (SPEC §7.4) from the journal, never from the victims: the journal in the monkey's
// own namespace says which objects this monkey set out to delete and which finalizers it was to
// strip. After a crash or a failover the leader finishes that work:
//   - a claim or volume it deleted that is still Terminating gets the journalled finalizers
//     stripped, but only those the current config still allows, only if it is still the same
//     object (uid), only if the delete that made it Terminating is ours (its time matches the
//     entry), and only if it is still not protected (opted out, excluded namespace);
//   - a victim whose recovery no process follows any more is counted `aborted`, once.
// An annotation, label or name a tenant wrote on the object changes none of this.
import type { Config } from "../config/types.js";
import { errorFields } from "../kube/errors.js";
import type { Journal, JournalEntry, WriteGate } from "../kube/journal.js";
import type { Logger } from "../observe/logger.js";
import type { Metrics } from "../observe/metrics.js";
import type { Clock } from "../clock.js";
import { configuredStrip, finishDecision } from "./strip.js";
import type { Volume, VolumeApi } from "./volume.js";
import { stripFinalizers } from "./volume.js";
import { LOG } from "../observe/messages.js";

export interface FinisherDeps {
  readonly journal: Journal;
  /** Takes entries whose work is done off the journal. */
  readonly forget: (uids: readonly string[]) => Promise<void>;
  readonly api: (kind: JournalEntry["kind"]) => VolumeApi;
  readonly clock: Clock;
  /** Asked before every write (leading, live config). */
  readonly gate: WriteGate;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** True while this process is killing the object (its own delete and strip follow). */
  readonly busy: (uid: string) => boolean;
  /** True while this process follows the victim's recovery (its end takes it off the journal). */
  readonly tracked: (uid: string) => boolean;
  /** True when no process follows the victim any more: its recovery counts aborted. */
  readonly interrupted: (uid: string) => boolean;
  /** Why the object may not be touched now under `config` (opted out, excluded), if so. */
  readonly protectedNow: (
    entry: JournalEntry,
    obj: Volume,
    config: Config,
  ) => Promise<string | undefined>;
}

export class Finisher {
  private readonly aborted = new Set<string>();
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly deps: FinisherDeps) {}

  /** Finishes what the journal holds; a call during a sweep runs one more sweep after it. */
  sweep(config: Config): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.run(config);
      } while (this.again);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(config: Config): Promise<void> {
    const { journal } = this.deps;
    if (!journal.isLoaded) await journal.load();
    const done: string[] = [];
    for (const entry of journal.list()) {
      if (this.deps.busy(entry.uid)) continue;
      if (this.deps.interrupted(entry.uid)) this.countAborted(entry);
      if (entry.kind === "Pod") {
        // A pod kill has nothing to finish; its recovery is either followed here or aborted.
        if (!this.deps.tracked(entry.uid)) done.push(entry.uid);
        continue;
      }
      if (await this.finish(entry, config)) done.push(entry.uid);
    }
    if (done.length > 0) await this.deps.forget(done);
  }

  private countAborted(entry: JournalEntry): void {
    if (this.aborted.has(entry.uid)) return;
    this.aborted.add(entry.uid);
    this.deps.metrics.recoveryOutcome(entry.target, entry.kind, "aborted");
    this.deps.log.warn(
      { round: entry.round, target: entry.target, victim: keyOf(entry), kind: entry.kind },
      LOG.INTERRUPTED_RECOVERY_ABORTED,
    );
  }

  /** Strips what is ours to strip; true when nothing is left to do for this entry. */
  private async finish(entry: JournalEntry, config: Config): Promise<boolean> {
    const { log, metrics } = this.deps;
    const api = this.deps.api(entry.kind);
    try {
      const obj = await api.read(entry).catch((err: unknown) => {
        if (errorFields(err).code === 404) return undefined;
        throw err;
      });
      const decision = finishDecision(entry, obj, {
        allowed: configuredStrip(config, entry.kind),
        nowMs: this.deps.clock.now(),
        busy: false,
      });
      if (decision.act === "wait") return false;
      if (decision.act === "forget") {
        log.info(
          { victim: keyOf(entry), round: entry.round, why: decision.why },
          "journal entry done",
        );
        return !this.deps.tracked(entry.uid);
      }
      const protectedBy = obj ? await this.deps.protectedNow(entry, obj, config) : undefined;
      if (protectedBy) {
        log.warn(
          { victim: keyOf(entry), round: entry.round, reason: protectedBy },
          "interrupted strip not finished: the object is protected now",
        );
        return !this.deps.tracked(entry.uid);
      }
      const stripped = await stripFinalizers(api, entry, decision.finalizers, this.deps.gate);
      for (const f of stripped) metrics.finalizerStripped(entry.kind, f);
      log.warn(
        { victim: keyOf(entry), round: entry.round, stripped },
        LOG.INTERRUPTED_STRIP_FINISHED,
      );
      return !this.deps.tracked(entry.uid);
    } catch (err) {
      metrics.error("strip");
      log.error(
        { victim: keyOf(entry), ...errorFields(err) },
        "could not finish an interrupted strip; will retry",
      );
      return false;
    }
  }
}

const keyOf = (e: { namespace: string; name: string }) =>
  e.namespace ? `${e.namespace}/${e.name}` : e.name;
