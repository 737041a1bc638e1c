// Which replica may act, as the loaded config changes (SPEC §4 and §7.2, §7.5). A live config acts
// only as the holder of the Lease; a dry-run config writes nothing, not even the Lease (nor its
// release: switched to dry-run, the replica stops renewing and the Lease expires), so every
// replica reports. A hot reload can switch between the two, so the election follows the config
// instead of being decided once at start.
import type { Config } from "../config/types.js";
import type { LeaderElector } from "../kube/leader.js";

/**
 * May a replica with `elector` act on `config` now? Judged from the config the round itself runs
 * with, so no moment of a reload lets a live config act without the Lease. (No elector: --dry-run
 * for the process's life.)
 */
export function mayAct(
  config: Config,
  elector: Pick<LeaderElector, "isLeader"> | undefined,
): boolean {
  return config.dryRun || (elector?.isLeader() ?? false);
}

/** When to campaign for the Lease as the loaded config changes, and whether the replica may act. */
export class ElectionPolicy {
  private loop: { abort: AbortController; done: Promise<void> } | undefined;

  /** `elector` is undefined when --dry-run forces every config to dry-run for the process's life. */
  constructor(
    private readonly elector: LeaderElector | undefined,
    private readonly stop: AbortSignal,
  ) {}

  /** Elects while a live config is loaded; a dry-run one stops renewing (and writes nothing). */
  follow(config: Config): void {
    if (!this.elector) return;
    if (!config.dryRun && !this.loop) {
      const abort = new AbortController();
      this.stop.addEventListener("abort", () => abort.abort(), { once: true });
      this.loop = { abort, done: this.elector.run(abort.signal) };
    } else if (config.dryRun && this.loop) {
      this.loop.abort.abort();
      this.loop = undefined;
    }
  }

  /** May this replica act on `config` now (see mayAct)? */
  mayAct(config: Config): boolean {
    return mayAct(config, this.elector);
  }

  /** The Lease's writes gate (SPEC §7.5): a `done` callback while leading, else undefined. */
  readonly beginWrite = (): (() => void) | undefined => this.elector?.beginWrite();

  /**
   * Stops electing; while electing (a live config), hands the Lease over once no write is in
   * flight (waiting up to `waitMs` for them), else lets it expire.
   */
  async close(waitMs: number): Promise<void> {
    const loop = this.loop;
    this.loop = undefined;
    loop?.abort.abort();
    await loop?.done;
    if (loop) await this.elector?.release(waitMs);
  }
}
