// Leader election on a coordination.k8s.io/v1 Lease (SPEC §4: 15 s lease, 10 s renew deadline,
// 2 s retry), the way client-go does it: optimistic concurrency on resourceVersion, expiry judged
// by when *this* process last saw the record change (never by comparing clocks across machines),
// and a leader that stops acting once it could not renew within the deadline, which is shorter
// than the lease, so two replicas never act at once.
import { V1MicroTime } from "@kubernetes/client-node";
import type { CoordinationV1Api, V1Lease } from "@kubernetes/client-node";
import type { Clock } from "../clock.js";
import type { Logger } from "../observe/logger.js";
import { statusCode } from "./client.js";
import { errorFields } from "./errors.js";

export interface LeaderOptions {
  readonly api: CoordinationV1Api;
  readonly namespace: string;
  readonly identity: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly name?: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly onChange?: (leader: boolean) => void;
}

export class LeaderElector {
  private readonly name: string;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private lastRenewMs = -Infinity;
  private observed = "";
  private observedAtMs = 0;
  private leading = false;

  constructor(private readonly opts: LeaderOptions) {
    this.name = opts.name ?? "chaos-monkey";
    this.leaseMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
  }

  /** True only while the last successful renewal is within the renew deadline. */
  isLeader(): boolean {
    return this.leading && this.opts.clock.now() - this.lastRenewMs < this.renewDeadlineMs;
  }

  /** Tries to acquire or renew until `signal` aborts; then releases the lease if held. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.tryOnce();
      await this.opts.clock.sleep(this.retryMs, signal).catch(() => undefined);
    }
    await this.release();
  }

  /** Acquires the lease, waiting up to `timeoutMs` for a current holder to let it expire. */
  async acquire(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = this.opts.clock.now() + timeoutMs;
    while (!signal?.aborted && this.opts.clock.now() < deadline) {
      if (await this.tryOnce()) return true;
      await this.opts.clock.sleep(this.retryMs, signal).catch(() => undefined);
    }
    return false;
  }

  /** One acquire-or-renew attempt. */
  async tryOnce(): Promise<boolean> {
    try {
      const ok = await this.attempt();
      if (ok) this.lastRenewMs = this.opts.clock.now();
      this.setLeading(ok ? true : this.isLeader());
      return ok;
    } catch (err) {
      this.opts.log.warn({ ...errorFields(err), lease: this.name }, "lease update failed");
      this.setLeading(this.isLeader());
      return false;
    }
  }

  private setLeading(value: boolean): void {
    if (value === this.leading) return;
    this.leading = value;
    this.opts.log.info(
      { lease: this.name, identity: this.opts.identity, leader: value },
      value ? "became leader" : "lost leadership",
    );
    this.opts.onChange?.(value);
  }

  private spec(lease: V1Lease | undefined, takeover: boolean): V1Lease["spec"] {
    const now = new V1MicroTime(this.opts.clock.now());
    const transitions = lease?.spec?.leaseTransitions ?? 0;
    return {
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: Math.round(this.leaseMs / 1000),
      acquireTime: takeover ? now : (lease?.spec?.acquireTime ?? now),
      renewTime: now,
      leaseTransitions: takeover && lease ? transitions + 1 : transitions,
    };
  }

  private async attempt(): Promise<boolean> {
    const { api, namespace } = this.opts;
    let lease: V1Lease;
    try {
      lease = await api.readNamespacedLease({ name: this.name, namespace });
    } catch (err) {
      if (statusCode(err) !== 404) throw err;
      return this.write(() =>
        api.createNamespacedLease({
          namespace,
          body: { metadata: { name: this.name, namespace }, spec: this.spec(undefined, true) },
        }),
      );
    }
    const holder = lease.spec?.holderIdentity ?? "";
    const mine = holder === this.opts.identity;
    if (!mine && !this.expired(holder, lease)) return false;
    const body: V1Lease = { ...lease, spec: this.spec(lease, !mine) };
    return this.write(() => api.replaceNamespacedLease({ name: this.name, namespace, body }));
  }

  /** Has the record stayed unchanged for a whole lease duration, as this process saw it? */
  private expired(holder: string, lease: V1Lease): boolean {
    const record = `${holder}@${String(lease.spec?.renewTime ?? "")}`;
    if (record !== this.observed) {
      this.observed = record;
      this.observedAtMs = this.opts.clock.now();
    }
    return holder === "" || this.opts.clock.now() - this.observedAtMs > this.leaseMs;
  }

  private async write(fn: () => Promise<V1Lease>): Promise<boolean> {
    try {
      await fn();
      return true;
    } catch (err) {
      if (statusCode(err) === 409) return false; // someone else wrote first
      throw err;
    }
  }

  /** Hands the lease over at once instead of letting it expire (client-go's ReleaseOnCancel). */
  async release(): Promise<void> {
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.opts.api.readNamespacedLease({
        name: this.name,
        namespace: this.opts.namespace,
      });
      if (lease.spec?.holderIdentity !== this.opts.identity) return;
      await this.opts.api.replaceNamespacedLease({
        name: this.name,
        namespace: this.opts.namespace,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1 } },
      });
    } catch (err) {
      this.opts.log.warn(errorFields(err), "lease not released; it will expire");
    }
  }
}
