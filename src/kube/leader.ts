// Leader election on a coordination.k8s.io/v1 Lease (SPEC §4: 15 s lease, 10 s renew deadline,
// 2 s retry), the way client-go does it: optimistic concurrency on resourceVersion, and expiry of
// another holder judged by how long *this* process has seen its record unchanged (never by
// comparing clocks across machines).
//
// SPEC §7.5: a process acts only while its term is unexpired by its own clock, and the term is
// counted from when the renewal was *sent*: the write reached the server no earlier than that, so
// another replica, which waits a whole lease duration (15 s) after it last saw the record change,
// cannot take over before our term (10 s from the send) is over. Counting from the answer would
// let a slow answer stretch the term past that. Every write is checked against the term
// (beginWrite), and the Lease is only handed over once no write is still on the wire.
import type { Clock } from "../clock.js";
import type { Logger } from "../observe/logger.js";
import { errorFields } from "./errors.js";
import { LeaseConflict, microTime } from "./lease-api.js";
import type { LeaseApi, LeaseRecord, LeaseSpec } from "./lease-api.js";
import { LOG } from "../observe/messages.js";

export interface LeaderOptions {
  readonly lease: LeaseApi;
  readonly identity: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly onChange?: (leader: boolean) => void;
}

export type StepDownReason = "renew deadline" | "another holder" | "conflict" | "released";

type Outcome = "written" | "held";

export class LeaderElector {
  private readonly lease: LeaseApi;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private leading = false;
  /** Clock time the last successful write was sent + the renew deadline. */
  private termEnd = -Infinity;
  private termWatch: AbortController | undefined;
  /** The holder's record as last read, and when this process first saw it so. */
  private observed = { key: "", atMs: 0 };
  private attempt: Promise<boolean> | undefined;
  private wrote = false;
  /** Aborted by release(): this elector is done, and an attempt on the wire is cut off. */
  private readonly closing = new AbortController();
  private inFlight = 0;
  private drained: (() => void)[] = [];

  constructor(private readonly opts: LeaderOptions) {
    this.lease = opts.lease;
    this.clock = opts.clock;
    this.log = opts.log;
    this.leaseMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
  }

  /** Leading, and the term (counted from the last successful write's send) not yet over. */
  isLeader(): boolean {
    return this.leading && this.clock.now() < this.termEnd;
  }

  /**
   * Call before every write the monkey makes: undefined means "do not write"; otherwise call the
   * returned `done` once the write has been answered (or given up), so release() can wait for it.
   */
  beginWrite(): (() => void) | undefined {
    if (!this.isLeader()) return undefined;
    this.inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight--;
      if (this.inFlight === 0) for (const wake of this.drained.splice(0)) wake();
    };
  }

  /**
   * Acquires or renews every retry period until `signal` aborts. Never releases: the caller
   * decides (a switch to dry-run must write nothing, not even a release). A term that is not
   * renewed still ends on time.
   */
  async run(signal: AbortSignal): Promise<void> {
    const stop = AbortSignal.any([signal, this.closing.signal]); // release() ends it too
    while (!stop.aborted) {
      await this.tryOnce(signal);
      await this.clock.sleep(this.retryMs, stop).catch(() => undefined);
    }
  }

  /** Tries until leader or `timeoutMs` has passed (a current holder's lease must expire first). */
  async acquire(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      if (signal?.aborted || this.closing.signal.aborted) return false;
      if (await this.tryOnce(signal)) return true;
      const left = deadline - this.clock.now();
      if (left <= 0) return false;
      try {
        await this.clock.sleep(Math.min(this.retryMs, left), signal);
      } catch {
        return false;
      }
    }
  }

  /** One acquire-or-renew; true when it left this process the leader. Concurrent calls share one. */
  tryOnce(signal?: AbortSignal): Promise<boolean> {
    if (this.closing.signal.aborted) return Promise.resolve(false);
    this.attempt ??= this.attemptOnce(signal).finally(() => {
      this.attempt = undefined;
    });
    return this.attempt;
  }

  /**
   * Stops leading at once (no beginWrite succeeds from here on, and this elector is done), waits
   * up to `waitMs` for writes in flight, then hands the Lease over (client-go's ReleaseOnCancel)
   * if this process still holds it. Never throws.
   */
  async release(waitMs = 0): Promise<void> {
    this.closing.abort();
    this.stepDown("released");
    if (!(await this.writesEnded(waitMs))) {
      // A kill still on the wire must not overlap the next leader's term: let the Lease expire.
      this.log.warn(
        { inFlight: this.inFlight, waitedMs: waitMs },
        "writes still in flight; not releasing the lease, it will expire",
      );
      return;
    }
    await this.attempt; // cut off above; settled, its write cannot race ours
    if (!this.wrote) return;
    const calls = this.deadline(this.clock.now() + this.renewDeadlineMs);
    try {
      const record = await this.lease.read(calls.signal);
      if (record?.spec.holderIdentity !== this.opts.identity) return;
      const spec: LeaseSpec = { ...record.spec, holderIdentity: "", leaseDurationSeconds: 1 };
      await this.lease.replace({ ...record, spec }, calls.signal);
      this.log.info({ identity: this.opts.identity }, LOG.LEASE_RELEASED);
    } catch (err) {
      this.log.warn(errorFields(err), "lease not released; it will expire");
    } finally {
      calls.cancel();
    }
  }

  private async attemptOnce(outer: AbortSignal | undefined): Promise<boolean> {
    const sentAt = this.clock.now();
    // A leader's calls may not outlive its term; a candidate's not its would-be term.
    const calls = this.deadline(
      this.isLeader() ? this.termEnd : sentAt + this.renewDeadlineMs,
      outer ? AbortSignal.any([outer, this.closing.signal]) : this.closing.signal,
    );
    try {
      return this.settle(await this.acquireOrRenew(calls.signal), sentAt);
    } catch (err) {
      return this.failed(err);
    } finally {
      calls.cancel();
    }
  }

  private async acquireOrRenew(signal: AbortSignal): Promise<Outcome> {
    const record = await this.lease.read(signal);
    if (!record) {
      this.see(await this.lease.create(this.nextSpec(undefined), signal));
      return "written";
    }
    this.see(record);
    if (!this.free(record)) return "held";
    this.see(await this.lease.replace({ ...record, spec: this.nextSpec(record.spec) }, signal));
    return "written";
  }

  private settle(outcome: Outcome, sentAt: number): boolean {
    if (outcome === "held") {
      this.stepDown("another holder");
      return false;
    }
    this.wrote = true;
    const termEnd = sentAt + this.renewDeadlineMs;
    // An answer after the term it would have started (or after release began) starts nothing.
    if (this.closing.signal.aborted || this.clock.now() >= termEnd) return this.isLeader();
    this.termEnd = termEnd;
    this.becomeLeader();
    return true;
  }

  private failed(err: unknown): boolean {
    if (err instanceof LeaseConflict) {
      this.log.debug({ identity: this.opts.identity }, "lease written by another first");
      this.stepDown("conflict");
      return false;
    }
    this.log.warn({ ...errorFields(err), identity: this.opts.identity }, "lease update failed");
    // Still leading until the term runs out: the timer set in becomeLeader ends it on time.
    if (this.leading && !this.isLeader()) this.stepDown("renew deadline");
    return false;
  }

  /** Ours, released (empty holder), or unchanged for a whole lease duration as we saw it. */
  private free(record: LeaseRecord): boolean {
    const holder = record.spec.holderIdentity ?? "";
    if (holder === this.opts.identity || holder === "") return true;
    const leaseMs = Math.max(this.leaseMs, (record.spec.leaseDurationSeconds ?? 0) * 1000);
    return this.clock.now() - this.observed.atMs >= leaseMs;
  }

  /** Restarts the expiry count whenever the holder or its renewTime changes. */
  private see(record: LeaseRecord): void {
    const key = `${record.spec.holderIdentity ?? ""}@${record.spec.renewTime ?? ""}`;
    if (key !== this.observed.key) this.observed = { key, atMs: this.clock.now() };
  }

  private nextSpec(prev: LeaseSpec | undefined): LeaseSpec {
    const now = microTime(this.clock.now());
    const takeover = prev?.holderIdentity !== this.opts.identity;
    const transitions = prev?.leaseTransitions ?? 0;
    return {
      ...prev,
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.ceil(this.leaseMs / 1000),
      acquireTime: takeover ? now : (prev.acquireTime ?? now),
      renewTime: now,
      leaseTransitions: takeover && prev ? transitions + 1 : transitions,
    };
  }

  private becomeLeader(): void {
    if (this.leading) return;
    this.leading = true;
    this.log.info({ identity: this.opts.identity }, LOG.BECAME_LEADER);
    const watch = new AbortController();
    this.termWatch = watch;
    void this.endTermOnTime(watch.signal);
    this.opts.onChange?.(true);
  }

  /** onChange(false) at the term's end even while a renewal hangs or none is being made. */
  private async endTermOnTime(signal: AbortSignal): Promise<void> {
    try {
      while (this.isLeader())
        await this.clock.sleep(Math.max(1, this.termEnd - this.clock.now()), signal);
    } catch {
      return; // stepped down already
    }
    this.stepDown("renew deadline");
  }

  private stepDown(reason: StepDownReason): void {
    if (!this.leading) return;
    this.leading = false;
    this.termWatch?.abort();
    this.termWatch = undefined;
    this.log.info({ identity: this.opts.identity, reason }, LOG.LOST_LEADERSHIP);
    this.opts.onChange?.(false);
  }

  /** A signal that aborts at `at` on the clock (or with `outer`); cancel() drops the timer. */
  private deadline(at: number, outer?: AbortSignal): { signal: AbortSignal; cancel: () => void } {
    const ctl = new AbortController();
    const timer = new AbortController();
    void this.clock.sleep(at - this.clock.now(), timer.signal).then(
      () => ctl.abort(new Error("lease call passed its deadline")),
      () => undefined,
    );
    const signal = outer ? AbortSignal.any([ctl.signal, outer]) : ctl.signal;
    return { signal, cancel: () => timer.abort() };
  }

  private async writesEnded(waitMs: number): Promise<boolean> {
    if (this.inFlight === 0) return true;
    if (waitMs <= 0) return false;
    const timer = new AbortController();
    const ended = new Promise<boolean>((resolve) => this.drained.push(() => resolve(true)));
    const timedOut = this.clock.sleep(waitMs, timer.signal).then(
      () => false,
      () => false,
    );
    const result = await Promise.race([ended, timedOut]);
    timer.abort();
    return result;
  }
}
