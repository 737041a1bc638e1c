// Shared by the watch caches of one view. A cache whose watch gets through again after failing
// says so, and the caches still waiting out a backoff retry now (each after a short jitter):
// the API server is back. Left alone, a cache could wait up to the 30 s backoff cap, and a
// recovery measured from it, and the monkey's readiness, would be late by as much.
export class RetryNow {
  private readonly waiters = new Set<() => void>();

  /** Resolves at the next recovered() after this call; never once `signal` aborts. */
  wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return;
      const waiter = () => resolve();
      this.waiters.add(waiter);
      signal.addEventListener("abort", () => this.waiters.delete(waiter), { once: true });
    });
  }

  /** A cache got through after failures: wake every cache waiting now. */
  recovered(): void {
    const woken = [...this.waiters];
    this.waiters.clear();
    for (const w of woken) w();
  }

  /** Caches waiting now (for tests). */
  get waiting(): number {
    return this.waiters.size;
  }
}
