// A Clock the test moves by hand (STYLE §1). advance() fires due sleepers one at a time, in time
// order, and lets the promise chains they wake settle before the next one fires, so code that
// reacts to a timer (and sets another) behaves as it would on the real clock, only instantly.
import { setImmediate as macrotask } from "node:timers/promises";
import type { Clock } from "../../src/clock.js";

interface Sleeper {
  readonly at: number;
  readonly seq: number;
  readonly wake: () => void;
}

/** 2026-12-02T01:02:03.123456Z: a fixed start, with microseconds, so logs and MicroTimes are stable. */
export const FAKE_EPOCH_MS = Date.UTC(2026, 11, 2, 1, 2, 3, 123) + 0.456;

export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private sleepers: Sleeper[] = [];

  constructor(startMs = FAKE_EPOCH_MS) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        reject(abortError(signal));
      };
      const sleeper: Sleeper = {
        at: this.t + Math.max(0, ms),
        seq: this.seq++,
        wake: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.sleepers.push(sleeper);
    });
  }

  /** Sleepers not yet woken (aborted ones are gone). */
  get pending(): number {
    return this.sleepers.length;
  }

  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.t + ms);
  }

  async advanceTo(target: number): Promise<void> {
    if (target < this.t) throw new RangeError("a clock does not go back");
    await settle();
    for (let next = this.due(target); next; next = this.due(target)) {
      this.sleepers = this.sleepers.filter((s) => s !== next);
      this.t = next.at;
      next.wake();
      await settle();
    }
    this.t = target;
    await settle();
  }

  private due(target: number): Sleeper | undefined {
    let first: Sleeper | undefined;
    for (const s of this.sleepers)
      if (s.at <= target && (!first || s.at < first.at || (s.at === first.at && s.seq < first.seq)))
        first = s;
    return first;
  }
}

/** Node drains the whole microtask queue before the next macrotask: every ready chain runs. */
async function settle(): Promise<void> {
  await macrotask();
}

function abortError(signal: AbortSignal | undefined): Error {
  return Object.assign(new Error("The operation was aborted"), {
    name: "AbortError",
    code: "ABORT_ERR",
    cause: signal?.reason as unknown,
  });
}
