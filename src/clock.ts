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

/** Resolves true once `work` settles, or false after `ms` (the work goes on unawaited). */
export async function settlesWithin(
  clock: Clock,
  work: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  const timer = new AbortController();
  const settled = work.then(
    () => true,
    () => true,
  );
  const timedOut = clock.sleep(ms, timer.signal).then(
    () => false,
    () => true, // cancelled: the work settled first
  );
  try {
    return await Promise.race([settled, timedOut]);
  } finally {
    timer.abort();
  }
}

/** `work`'s result, or a rejection with Error("`what` within N s") when `ms` pass first. */
export async function withDeadline<T>(
  clock: Clock,
  work: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  const timer = new AbortController();
  const late = clock.sleep(ms, timer.signal).then(
    () => Promise.reject(new Error(`${what} within ${ms / 1000}s`)),
    () => new Promise<never>(() => undefined), // cancelled: the work settled first
  );
  try {
    return await Promise.race([work, late]);
  } finally {
    timer.abort();
  }
}
