// One loop per target: sleep until the next fire time in the target's zone (plus the tick's
// jitter, the same in every replica), run the round, repeat. Missed ticks (the process was stopped or starved) are not caught up in a
// burst: the loop continues from now.
import type { Clock } from "../clock.js";
import type { Config, Target } from "../config/types.js";
import type { Logger } from "../observe/logger.js";
import type { Metrics } from "../observe/metrics.js";
import { nextFire, parseSchedule } from "../schedule/cron.js";
import { tickJitter } from "../schedule/jitter.js";
import { LOG } from "../observe/messages.js";

export interface SchedulerDeps {
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly log: Logger;
  /**
   * Runs one round of `target` (as the config the loop started on has it: the round itself runs
   * on the config in force, Monkey.round); resolves when its kills are done.
   */
  readonly fire: (target: Target, tickMs: number) => Promise<void>;
}

export class Scheduler {
  private abort = new AbortController();
  private loops: Promise<void>[] = [];
  private running = false;
  private crashed = false;

  constructor(private readonly deps: SchedulerDeps) {}

  /** For /healthz: loops are running and none ended on its own. */
  get alive(): boolean {
    return this.running && !this.crashed;
  }

  /** (Re)starts every target's loop on `config`; the old loops stop at once. */
  async setConfig(config: Config): Promise<void> {
    await this.stop();
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.running = true;
    this.crashed = false;
    this.loops = config.targets.map((t) =>
      this.loop(t, signal).finally(() => {
        if (!signal.aborted) this.crashed = true;
      }),
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await Promise.all(this.loops);
    this.loops = [];
  }

  private async loop(target: Target, signal: AbortSignal): Promise<void> {
    try {
      await this.ticks(target, signal);
    } catch (err) {
      // Not a round's failure (those are caught below) but the loop's own: a schedule that got
      // past validation and cannot be evaluated. /healthz reports the loop dead (alive).
      this.deps.metrics.error("schedule");
      this.deps.log.error(
        { err, target: target.name },
        "schedule failed; the target is not scheduled",
      );
    }
  }

  private async ticks(target: Target, signal: AbortSignal): Promise<void> {
    const parsed = parseSchedule(target.schedule);
    if (!parsed.ok) return; // the config layer refuses such a file; nothing to schedule
    const { clock, metrics, log } = this.deps;
    const next = (after: number) =>
      nextFire({
        schedule: parsed.schedule,
        after: new Date(after),
        zone: target.timezone,
      }).getTime();
    let after = clock.now();
    while (!signal.aborted) {
      const fire = next(after);
      metrics.setNextRound(target.name, fire / 1000);
      const wait = fire - clock.now() + tickJitter(target.jitterMs, target.name, fire);
      try {
        await clock.sleep(Math.max(0, wait), signal);
      } catch {
        return; // aborted
      }
      try {
        await this.deps.fire(target, fire);
      } catch (err) {
        metrics.error("round");
        log.error({ err, target: target.name }, "round crashed");
      }
      const now = clock.now();
      // Ticks that came while this one waited to fire or ran are not caught up in a burst.
      if (next(fire) <= now)
        log.warn({ target: target.name, lateMs: Math.round(now - fire) }, LOG.ROUND_LATE);
      after = Math.max(fire, now);
    }
  }
}
