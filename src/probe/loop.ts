// One probe loop per target (SPEC §2 steadyState): every `interval` it runs each probe once —
// never a second request of a probe while one is in flight, every request with its timeout —
// and hands the round of checks to whoever follows the target's recoveries. Concurrent victims
// of one target share the loop, so probe traffic does not grow with the number of victims; it
// runs only while someone listens.
import type { Clock } from "../clock.js";
import type { ProbeSpec, SteadyState } from "../config/steady-state.js";
import { runProbe } from "./run.js";
import type { ProbeFetch } from "./run.js";
import type { ProbeOutcome } from "./verdict.js";

export interface ProbeCheck {
  readonly probe: string;
  readonly outcome: ProbeOutcome;
}

/** One tick's checks, all probes, stamped with the time the last answer came. */
export interface CheckRound {
  readonly checks: readonly ProbeCheck[];
  readonly atMs: number;
}

export interface ProbeLoopDeps {
  readonly clock: Clock;
  readonly fetch?: ProbeFetch;
  /** Every check, for the metric and the log. */
  readonly onCheck?: (probe: ProbeSpec, outcome: ProbeOutcome) => void;
}

export class ProbeLoop {
  private readonly listeners = new Set<(round: CheckRound) => void>();
  private running: Promise<void> | undefined;
  private stop = new AbortController();
  /** A round under way, shared by a before-check and the loop (one request per probe). */
  private inFlight: Promise<CheckRound> | undefined;

  constructor(
    private readonly steady: SteadyState,
    private readonly deps: ProbeLoopDeps,
  ) {}

  /** Runs every probe once (or joins the round already under way). */
  checkOnce(): Promise<CheckRound> {
    this.inFlight ??= this.runAll().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /** Follows the checks from now on; the loop runs while anyone follows. */
  follow(listener: (round: CheckRound) => void): () => void {
    this.listeners.add(listener);
    if (!this.running) {
      this.stop = new AbortController();
      this.running = this.loop(this.stop.signal).finally(() => (this.running = undefined));
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop.abort();
    };
  }

  /** Ends the loop whoever still follows it (shutdown). */
  close(): void {
    this.listeners.clear();
    this.stop.abort();
  }

  private async runAll(): Promise<CheckRound> {
    const checks = await Promise.all(
      this.steady.probes.map(async (probe) => {
        const outcome = await runProbe(probe, this.deps);
        this.deps.onCheck?.(probe, outcome);
        return { probe: probe.name, outcome };
      }),
    );
    return { checks, atMs: this.deps.clock.now() };
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const started = this.deps.clock.now();
      const round = await this.checkOnce();
      if (signal.aborted) return;
      for (const l of [...this.listeners]) l(round);
      const wait = started + this.steady.intervalMs - this.deps.clock.now();
      try {
        await this.deps.clock.sleep(Math.max(0, wait), signal);
      } catch {
        return;
      }
    }
  }
}
