import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FAKE_EPOCH_MS as T0, FakeClock } from "../../test/support/fake-clock.js";
import { HttpError } from "./http.js";
import { LeaderElector } from "./leader.js";
import { LeaseConflict, microTime } from "./lease-api.js";
import type { LeaseApi, LeaseRecord, LeaseSpec } from "./lease-api.js";
import { LOG } from "../observe/messages.js";

/** How the fake API server answers one call; calls take the planned steps in order. */
interface Step {
  /** The server applies the call at once; its answer comes this much later. */
  readonly delayMs?: number;
  /** The answer was on its way already: aborting does not stop it. */
  readonly ignoreAbort?: boolean;
  /** Never applied, never answered; rejects when the call is aborted. */
  readonly hang?: boolean;
  /** Someone else writes the Lease just before this call is applied. */
  readonly conflict?: boolean;
  /** Answers with this HTTP status and applies nothing. */
  readonly fail?: number;
}

interface Call {
  readonly op: "read" | "create" | "replace";
  readonly at: number;
  abortedAt?: number;
}

/** One Lease in memory with resourceVersion semantics; times in `calls` are relative to T0. */
class MemoryLease implements LeaseApi {
  record: LeaseRecord | undefined;
  readonly calls: Call[] = [];
  private rv = 0;
  private readonly plan: Step[] = [];

  constructor(private readonly clock: FakeClock) {}

  next(...steps: Step[]): void {
    this.plan.push(...steps);
  }

  /** Another process writes the Lease (renewTime never compared with our clock). */
  holdBy(holder: string, spec: LeaseSpec = {}): void {
    this.store({
      holderIdentity: holder,
      leaseDurationSeconds: 15,
      renewTime: "2000-01-01T00:00:00.000000Z",
      ...spec,
    });
  }

  ops(op?: Call["op"]): Call[] {
    return this.calls.filter((c) => !op || c.op === op);
  }

  read(signal: AbortSignal): Promise<LeaseRecord | undefined> {
    return this.call("read", signal, () => this.record);
  }

  create(spec: LeaseSpec, signal: AbortSignal): Promise<LeaseRecord> {
    return this.call("create", signal, () => {
      if (this.record) throw new LeaseConflict("already exists");
      return this.store(spec);
    });
  }

  replace(record: LeaseRecord, signal: AbortSignal): Promise<LeaseRecord> {
    return this.call("replace", signal, () => {
      if (record.metadata.resourceVersion !== this.record?.metadata.resourceVersion)
        throw new LeaseConflict("the object has been modified");
      return this.store(record.spec);
    });
  }

  private store(spec: LeaseSpec): LeaseRecord {
    this.record = { metadata: { name: "chaos-monkey", resourceVersion: String(++this.rv) }, spec };
    return this.record;
  }

  private async call<T>(op: Call["op"], signal: AbortSignal, apply: () => T): Promise<T> {
    const step = this.plan.shift() ?? {};
    const call: Call = { op, at: this.clock.now() - T0 };
    this.calls.push(call);
    signal.throwIfAborted();
    signal.addEventListener("abort", () => (call.abortedAt = this.clock.now() - T0));
    if (step.hang)
      return new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason as Error)),
      );
    if (step.fail) throw new HttpError(step.fail, `${op}: ${step.fail}`);
    if (step.conflict && this.record) this.store(this.record.spec);
    const result = apply();
    if (step.delayMs) await this.clock.sleep(step.delayMs, step.ignoreAbort ? undefined : signal);
    return result;
  }
}

function setup() {
  const clock = new FakeClock();
  const api = new MemoryLease(clock);
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: "debug" },
    { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  /** [ms after T0, leader] per onChange call. */
  const changes: [number, boolean][] = [];
  const elector = new LeaderElector({
    lease: api,
    identity: "me",
    clock,
    log,
    onChange: (leader) => changes.push([clock.now() - T0, leader]),
  });
  const at = (ms: number) => clock.advanceTo(T0 + ms);
  const reasons = () => lines.filter((l) => l.msg === LOG.LOST_LEADERSHIP).map((l) => l.reason);
  return { clock, api, elector, changes, at, lines, reasons };
}

/** Leader from t=0 (term to 10 s), by a create. */
async function leading() {
  const t = setup();
  expect(await t.elector.tryOnce()).toBe(true);
  return t;
}

describe("LeaderElector", () => {
  it.each([
    {
      name: "no Lease yet: creates it",
      before: undefined,
      ops: ["read", "create"],
      transitions: 0,
    },
    { name: "a released Lease (empty holder): takes it at once", before: "", transitions: 1 },
    { name: "its own record: renews it", before: "me", transitions: 0 },
  ])("acquires: $name", async ({ before, ops, transitions }) => {
    const { api, elector, changes, lines } = setup();
    if (before !== undefined) api.holdBy(before, { leaseTransitions: 0 });
    expect(await elector.tryOnce()).toBe(true);
    expect(elector.isLeader()).toBe(true);
    expect(changes).toEqual([[0, true]]);
    expect(api.ops().map((c) => c.op)).toEqual(ops ?? ["read", "replace"]);
    expect(api.record?.spec).toMatchObject({
      holderIdentity: "me",
      leaseDurationSeconds: 15,
      renewTime: "2026-12-02T01:02:03.123456Z",
      leaseTransitions: transitions,
    });
    expect(lines.map((l) => l.msg)).toContain(LOG.BECAME_LEADER);
  });

  it("renews every retry period, stays leader throughout, and does not release when stopped", async () => {
    const { api, elector, changes, at, reasons } = setup();
    const stop = new AbortController();
    const running = elector.run(stop.signal);
    for (let s = 0; s <= 60; s++) {
      await at(s * 1000);
      expect(elector.isLeader()).toBe(true);
    }
    const renewals = api.ops("replace").map((c) => c.at);
    expect(renewals).toEqual(Array.from({ length: 30 }, (_, i) => (i + 1) * 2000));
    expect(api.record?.metadata.resourceVersion).toBe("31");
    stop.abort();
    await running;
    expect(api.record?.spec.holderIdentity).toBe("me"); // no release written
    await at(69_999);
    expect(elector.isLeader()).toBe(true);
    await at(70_000); // the last renewal was sent at 60 s
    expect(elector.isLeader()).toBe(false);
    expect(changes).toEqual([
      [0, true],
      [70_000, false],
    ]);
    expect(reasons()).toEqual(["renew deadline"]);
  });

  it.each([
    // Sent at 2 s, answered at 9 s: the term runs to 12 s (from the send), not 19 s.
    { name: "answered 7 s after its send", step: { delayMs: 7000 }, ok: true, until: 12_000 },
    // Sent at 2 s, answered at 16 s (past every deadline): it counts for nothing, so the term
    // from the first write ends at 10 s; counting from the answer would have led until 26 s.
    {
      name: "answered 14 s after its send",
      step: { delayMs: 14_000, ignoreAbort: true },
      ok: false,
      until: 10_000,
    },
  ])("counts a renewal's term from its send: $name", async ({ step, ok, until }) => {
    const { api, elector, changes, at } = await leading();
    await at(2000);
    api.next({}, step);
    const renewed = elector.tryOnce();
    await at(until - 1);
    expect(elector.isLeader()).toBe(true);
    await at(until);
    expect(elector.isLeader()).toBe(false);
    await at(20_000);
    expect(await renewed).toBe(ok);
    expect(elector.isLeader()).toBe(false);
    expect(changes).toEqual([
      [0, true],
      [until, false],
    ]);
  });

  it.each([
    { name: "its read hangs", steps: [{ hang: true }], aborted: "read" },
    { name: "its write hangs", steps: [{}, { hang: true }], aborted: "replace" },
    { name: "its read fails (HTTP 500)", steps: [{ fail: 500 }] },
    { name: "no renewal is made", steps: undefined },
  ])(
    "keeps the term to its end, then steps down on time, when a renewal fails: $name",
    async ({ steps, aborted }) => {
      const { api, elector, changes, at, reasons, lines } = await leading();
      await at(2000);
      let renewed: Promise<boolean> = Promise.resolve(false);
      if (steps) {
        api.next(...steps);
        renewed = elector.tryOnce();
      }
      await at(9999);
      expect(elector.isLeader()).toBe(true);
      await at(10_000);
      expect(elector.isLeader()).toBe(false);
      expect(changes).toEqual([
        [0, true],
        [10_000, false],
      ]);
      expect(await renewed).toBe(false);
      expect(reasons()).toEqual(["renew deadline"]);
      if (aborted) expect(api.ops(aborted as Call["op"]).at(-1)?.abortedAt).toBe(10_000);
      if (steps) expect(lines.map((l) => l.msg)).toContain("lease update failed");
    },
  );

  it.each([
    {
      name: "another holder is seen",
      arrange: (api: MemoryLease) => api.holdBy("other", { renewTime: microTime(T0 + 3000) }),
      reason: "another holder",
    },
    {
      name: "the write gets 409",
      arrange: (api: MemoryLease) => api.next({}, { conflict: true }),
      reason: "conflict",
    },
  ])("steps down at once, before the term ends, when $name", async ({ arrange, reason }) => {
    const { api, elector, changes, at, reasons } = await leading();
    await at(3000);
    arrange(api);
    expect(await elector.tryOnce()).toBe(false);
    expect(elector.isLeader()).toBe(false);
    expect(elector.beginWrite()).toBeUndefined();
    expect(changes).toEqual([
      [0, true],
      [3000, false],
    ]);
    expect(reasons()).toEqual([reason]);
  });

  it.each([
    // renewTime is years old by our clock, but clocks are never compared across machines.
    { name: "never renewed while we watch", takenAt: 16_000 },
    { name: "renewed once at 7 s (seen at 8 s)", renewAt: 7000, takenAt: 24_000 },
    { name: "renewed once, with a 30 s lease", renewAt: 7000, seconds: 30, takenAt: 38_000 },
  ])(
    "takes a foreign holder's lease only once unchanged a whole lease duration by our clock: $name",
    async ({ renewAt, seconds, takenAt }) => {
      const { api, elector, changes, at } = setup();
      api.holdBy("other", { leaseDurationSeconds: seconds ?? 15, leaseTransitions: 4 });
      const stop = new AbortController();
      const running = elector.run(stop.signal);
      if (renewAt !== undefined) {
        await at(renewAt);
        api.holdBy("other", { leaseDurationSeconds: seconds ?? 15, renewTime: microTime(0) });
      }
      await at(takenAt - 1);
      expect(elector.isLeader()).toBe(false);
      expect(api.record?.spec.holderIdentity).toBe("other");
      await at(takenAt);
      expect(elector.isLeader()).toBe(true);
      expect(changes).toEqual([[takenAt, true]]);
      expect(api.record?.spec).toMatchObject({
        holderIdentity: "me",
        acquireTime: microTime(T0 + takenAt),
        leaseTransitions: renewAt === undefined ? 5 : 1,
      });
      stop.abort();
      await running;
    },
  );

  it.each([
    { name: "a free lease: at once", holder: undefined, timeoutMs: 5000, ok: true, doneAt: 0 },
    {
      name: "held: gives up at the deadline",
      holder: "other",
      timeoutMs: 5000,
      ok: false,
      doneAt: 5000,
    },
    {
      name: "held: waits out its expiry",
      holder: "other",
      timeoutMs: 20_000,
      ok: true,
      doneAt: 16_000,
    },
  ])("acquire(): $name", async ({ holder, timeoutMs, ok, doneAt }) => {
    const { api, clock, elector, at } = setup();
    if (holder) api.holdBy(holder);
    let resolved: { at: number; leader: boolean } | undefined;
    const acquired = elector.acquire(timeoutMs).finally(() => {
      resolved = { at: clock.now() - T0, leader: elector.isLeader() };
    });
    await at(30_000);
    expect(await acquired).toBe(ok);
    expect(resolved).toEqual({ at: doneAt, leader: ok });
  });

  it("acquire() gives up when its signal aborts", async () => {
    const { api, elector, at } = setup();
    api.holdBy("other");
    const stop = new AbortController();
    const acquired = elector.acquire(60_000, stop.signal);
    await at(3000);
    stop.abort();
    expect(await acquired).toBe(false);
  });

  it("beginWrite() grants writes only while the term lasts", async () => {
    const { elector, at } = setup();
    expect(elector.beginWrite()).toBeUndefined();
    await elector.tryOnce();
    const done = elector.beginWrite();
    expect(done).toBeTypeOf("function");
    done?.();
    await at(10_000);
    expect(elector.beginWrite()).toBeUndefined();
  });

  it.each([
    { name: "no write in flight: at once", writeEndsAt: undefined, releasedAt: 1000 },
    { name: "waits for the write in flight", writeEndsAt: 4000, releasedAt: 4000 },
    { name: "a write still in flight after the wait: not at all", writeEndsAt: 8000 },
  ])("release(5 s): $name", async ({ writeEndsAt, releasedAt }) => {
    const { api, elector, changes, at, reasons, lines } = await leading();
    const done = writeEndsAt === undefined ? undefined : elector.beginWrite();
    await at(1000);
    const released = elector.release(5000);
    expect(elector.isLeader()).toBe(false);
    expect(elector.beginWrite()).toBeUndefined();
    expect(changes).toEqual([
      [0, true],
      [1000, false],
    ]);
    expect(reasons()).toEqual(["released"]);
    if (writeEndsAt !== undefined) {
      await at(writeEndsAt - 1);
      expect(api.record?.spec.holderIdentity).toBe("me");
      await at(writeEndsAt);
      done?.();
    }
    await at(10_000);
    await released;
    const release = api.ops("replace");
    if (releasedAt === undefined) {
      expect(release).toEqual([]);
      expect(api.record?.spec.holderIdentity).toBe("me");
      expect(lines.map((l) => l.msg)).toContain(
        "writes still in flight; not releasing the lease, it will expire",
      );
    } else {
      expect(release.map((c) => c.at)).toEqual([releasedAt]);
      expect(api.record?.spec).toMatchObject({ holderIdentity: "", leaseDurationSeconds: 1 });
    }
    expect(await elector.tryOnce()).toBe(false); // done for good
  });

  it("release() cuts off a renewal on the wire before it hands the lease over", async () => {
    const { api, elector, at } = await leading();
    await at(2000);
    api.next({}, { hang: true });
    const renewed = elector.tryOnce();
    await at(3000);
    const stop = new AbortController();
    const running = elector.run(stop.signal); // joins the hung attempt
    await elector.release(0);
    expect(await renewed).toBe(false);
    await running; // ended by release(), with no retry wait
    expect(api.ops("replace").map((c) => [c.at, c.abortedAt])).toEqual([
      [2000, 3000],
      [3000, undefined],
    ]);
    expect(api.record?.spec.holderIdentity).toBe("");
  });

  it("release() writes nothing when another process holds the lease, and never throws", async () => {
    const { api, elector, at } = await leading();
    await at(12_000);
    api.holdBy("other");
    await elector.release(0);
    expect(api.record?.spec.holderIdentity).toBe("other");
    expect(api.ops("replace")).toEqual([]);

    const failing = await leading();
    failing.api.next({ fail: 503 });
    await expect(failing.elector.release(0)).resolves.toBeUndefined();
    expect(failing.lines.map((l) => l.msg)).toContain("lease not released; it will expire");
  });
});
