// Time is passed in, never read behind the caller's back (STYLE §1): tests drive a fake clock,
// production uses this one.
import { setTimeout as delay } from "node:timers/promises";

export interface Clock {
  /** Wall-clock milliseconds since the epoch, with sub-millisecond precision. */
  now(): number;
  /** Resolves after `ms`, or rejects with an AbortError when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  // performance.now() is monotonic; anchoring it to timeOrigin gives epoch time without the
  // millisecond truncation of Date.now(), which recovery measurements need.
  now: () => performance.timeOrigin + performance.now(),
  sleep: async (ms, signal) => {
    await delay(ms, undefined, { signal });
  },
};
