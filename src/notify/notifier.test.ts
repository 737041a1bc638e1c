// Delivery against a real HTTP receiver on 127.0.0.1 (undici's real fetch, no mocked module).
// Time is the fake clock's: timeouts, backoffs and Retry-After pass when the test advances it, and
// `until` waits (in real time, briefly) only for what the loopback I/O brings about.
import seedrandom from "seedrandom";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../test/support/fake-clock.js";
import type { NotifyEvent, NotifySink } from "../config/types.js";
import type { ChaosEventBody } from "./webhook.js";
import type { SlackMessage } from "./slack.js";
import {
  captureLog,
  counter,
  dryRun,
  SAMPLES,
  sinkFor,
  startReceiver,
  until,
} from "../../test/fixtures/notify.js";
import type { Receiver, Reply } from "../../test/fixtures/notify.js";
import { Notifier } from "./notifier.js";
import { LOG } from "../observe/messages.js";

const receivers: Receiver[] = [];
const notifiers: Notifier[] = [];
afterEach(async () => {
  for (const n of notifiers.splice(0)) n.close();
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function receiver(answer?: (n: number) => Reply): Promise<Receiver> {
  const r = await startReceiver(answer);
  receivers.push(r);
  return r;
}

function setup(sinks: readonly NotifySink[], opts: { capacity?: number } = {}) {
  const clock = new FakeClock();
  const counts = counter();
  const logs = captureLog();
  const notifier = new Notifier({
    sinks,
    clock,
    rng: seedrandom("notify-test"),
    log: logs.log,
    count: counts.count,
    ...opts,
  });
  notifiers.push(notifier);
  const logged = (msg: string) => logs.lines.filter((l) => l.msg === msg);
  return { clock, counts, logs, notifier, logged };
}

/** Moves the fake clock in small steps, giving the loopback real time between them. */
async function advanceUntil(clock: FakeClock, what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 2000) throw new Error(`never happened: ${what}`);
    await clock.advance(100);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const eventsOf = (r: Receiver): string[] =>
  r.received.map((x) => (JSON.parse(x.body) as ChaosEventBody).event);

describe("Notifier", () => {
  it("sends each sink the events it subscribes to, in order, with its headers", async () => {
    const audit = await receiver();
    const team = await receiver();
    const { counts, notifier } = setup([
      sinkFor({
        name: "audit",
        url: `${audit.url}/chaos`,
        headers: { Authorization: "Bearer t0ken" },
        events: ["kill", "recovered", "skipped"],
      }),
      sinkFor({ name: "team", url: `${team.url}/hook`, events: ["round_failed"] }),
    ]);
    for (const event of ["kill", "recovered", "not_recovered", "skipped"] as NotifyEvent[])
      notifier.notify(SAMPLES[event]);
    await until("three deliveries", () => audit.received.length === 3);
    expect(eventsOf(audit)).toEqual(["kill", "recovered", "skipped"]);
    expect(audit.received[0]).toMatchObject({
      method: "POST",
      path: "/chaos",
      headers: {
        authorization: "Bearer t0ken",
        "content-type": "application/json",
        "user-agent": expect.stringMatching(/^kube-chaos-monkey\//) as unknown,
      },
    });
    expect(JSON.parse(audit.received[0]?.body ?? "")).toMatchObject({
      apiVersion: "chaos-monkey.io/v1",
      kind: "ChaosEvent",
    });
    expect(team.received).toEqual([]);
    await until("counted", () => counts.of("audit", "sent") === 3);
    expect(counts.of("team", "sent")).toBe(0);
  });

  it("posts Slack's payload to a slack sink, at most one a second", async () => {
    const slack = await receiver();
    const { clock, counts, notifier } = setup([sinkFor({ type: "slack", url: slack.url })]);
    notifier.notify(SAMPLES.kill);
    notifier.notify(SAMPLES.recovered);
    await until("the first message", () => slack.received.length === 1);
    const first = JSON.parse(slack.received[0]?.body ?? "") as SlackMessage;
    expect(Object.keys(first).sort()).toEqual(["blocks", "text"]);
    expect(first.text).toContain("killed 2 pods");
    await clock.advance(999);
    expect(slack.received).toHaveLength(1);
    await clock.advance(1);
    await until("the second message", () => slack.received.length === 2);
    await until("counted", () => counts.of("team", "sent") === 2);
  });

  it("retries 500, 500, then 200: three tries, one delivery, counted sent", async () => {
    const r = await receiver((n) => (n < 2 ? { status: 500, body: "oops" } : { status: 200 }));
    const { clock, counts, notifier, logged } = setup([sinkFor({ url: r.url })]);
    notifier.notify(SAMPLES.kill);
    await until("a retry", () => logged("notification retry").length === 1);
    const [first] = logged("notification retry");
    expect(first).toMatchObject({ sink: "team", status: 500, reason: "HTTP 500: oops", tries: 1 });
    // Jittered: half to all of 1 s, then of 2 s.
    expect(first?.retryInMs).toBeGreaterThanOrEqual(500);
    expect(first?.retryInMs).toBeLessThanOrEqual(1000);
    await clock.advance(1000);
    await until("a second retry", () => logged("notification retry").length === 2);
    expect(logged("notification retry")[1]?.retryInMs).toBeGreaterThanOrEqual(1000);
    await clock.advance(2000);
    await until("sent", () => counts.of("team", "sent") === 1);
    expect(r.received).toHaveLength(3);
    expect(new Set(r.received.map((x) => x.body)).size).toBe(1);
    expect(counts.of("team", "failed")).toBe(0);
  });

  it("gives up on a 400 at once: one try, counted failed, logged with the status", async () => {
    const r = await receiver(() => ({ status: 400, body: "invalid_payload" }));
    const { counts, notifier, logged } = setup([sinkFor({ type: "slack", url: r.url })]);
    notifier.notify(SAMPLES.kill);
    await until("failed", () => counts.of("team", "failed") === 1);
    expect(r.received).toHaveLength(1);
    expect(logged(LOG.NOTIFICATION_FAILED)).toEqual([
      expect.objectContaining({
        sink: "team",
        event: "kill",
        target: "web",
        round: "web-20261202T010203Z",
        status: 400,
        reason: "HTTP 400: invalid_payload",
        tries: 1,
      }),
    ]);
    expect(logged(LOG.NOTIFICATION_FAILED)[0]?.level).toBe(40);
  });

  it("a hanging receiver costs notify() nothing and ends counted failed after three timeouts", async () => {
    const r = await receiver(() => "hang");
    const { clock, counts, notifier, logged } = setup([sinkFor({ url: r.url })]);
    const started = performance.now();
    for (let i = 0; i < 10; i++) expect(notifier.notify(SAMPLES.kill)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(50);
    // Nothing was even sent before notify() returned.
    expect(r.received).toHaveLength(0);
    const start = clock.now();
    await until("the first try", () => r.received.length === 1);
    await clock.advance(4999);
    expect(logged("notification retry")).toHaveLength(0);
    await clock.advance(1);
    await until("a retry", () => logged("notification retry").length === 1);
    expect(logged("notification retry")[0]?.reason).toBe("no answer within 5000ms");
    await advanceUntil(clock, "the second try", () => r.received.length === 2);
    await advanceUntil(
      clock,
      "the second timeout",
      () => logged("notification retry").length === 2,
    );
    await advanceUntil(clock, "the third try", () => r.received.length === 3);
    await advanceUntil(clock, "failed", () => counts.of("team", "failed") === 1);
    expect(logged(LOG.NOTIFICATION_FAILED)[0]).toMatchObject({
      reason: "no answer within 5000ms",
      tries: 3,
    });
    expect(clock.now() - start).toBeGreaterThanOrEqual(15_000);
    // The other nine wait their turn, still queued: none was lost or counted yet.
    expect(counts.of("team", "dropped") + counts.of("team", "sent")).toBe(0);
    await until("the aborted requests closed", () => r.aborted === 3);
  });

  it("honours a 429's Retry-After (seconds)", async () => {
    const r = await receiver((n) =>
      n === 0
        ? { status: 429, headers: { "retry-after": "1" }, body: "rate_limited" }
        : { status: 200 },
    );
    const { clock, counts, notifier, logged } = setup([sinkFor({ type: "slack", url: r.url })]);
    notifier.notify(SAMPLES.kill);
    await until("the 429", () => logged("notification retry").length === 1);
    expect(logged("notification retry")[0]).toMatchObject({ status: 429, retryInMs: 1000 });
    const limitedAt = clock.now();
    await clock.advance(999);
    // Real time for the loopback to show a request, had one been sent early.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(r.received).toHaveLength(1);
    await clock.advance(1);
    await until("sent", () => counts.of("team", "sent") === 1);
    expect(r.received).toHaveLength(2);
    expect(clock.now() - limitedAt).toBeGreaterThanOrEqual(1000);
  });

  it("a Retry-After beyond a minute is not waited for", async () => {
    const r = await receiver(() => ({ status: 429, headers: { "retry-after": "3600" } }));
    const { counts, notifier, logged } = setup([sinkFor({ url: r.url })]);
    notifier.notify(SAMPLES.kill);
    await until("failed", () => counts.of("team", "failed") === 1);
    expect(logged(LOG.NOTIFICATION_FAILED)[0]?.reason).toBe("HTTP 429 (Retry-After 3600s)");
  });

  it("a flood against a receiver that never answers keeps the queue bounded and counts drops", async () => {
    const r = await receiver(() => "hang");
    const { counts, notifier, logged } = setup([sinkFor({ url: r.url })]);
    const started = performance.now();
    for (let i = 0; i < 1000; i++)
      notifier.notify({ ...SAMPLES.kill, round: `web-${String(i).padStart(4, "0")}` });
    expect(performance.now() - started).toBeLessThan(1000);
    await until("the first request", () => r.received.length === 1);
    // All 1000 came before the delivery loop's first turn: the 900 oldest were dropped, the
    // newest 100 wait, and one of them is in flight.
    expect(counts.of("team", "dropped")).toBe(900);
    expect(logged("notification queue full: dropping the oldest")).toHaveLength(1);
    expect(JSON.parse(r.received[0]?.body ?? "")).toMatchObject({ round: "web-0900" });
    notifier.close();
    await until("closed", () => counts.of("team", "failed") === 1);
    expect(counts.of("team", "dropped")).toBe(999);
    expect(counts.of("team", "sent")).toBe(0);
  });

  it("keeps the newest when the queue overflows, and reports the drops once drained", async () => {
    const r = await receiver();
    const { counts, notifier, logged } = setup([sinkFor({ url: r.url })], { capacity: 2 });
    // The first goes out at once; 2 of the next 4 fit.
    notifier.notify({ ...SAMPLES.kill, round: "r0" });
    await until("the first", () => r.received.length === 1);
    for (const round of ["r1", "r2", "r3", "r4"]) notifier.notify({ ...SAMPLES.kill, round });
    await until("drained", () => counts.of("team", "sent") === 3);
    expect(r.received.map((x) => (JSON.parse(x.body) as ChaosEventBody).round)).toEqual([
      "r0",
      "r3",
      "r4",
    ]);
    expect(counts.of("team", "dropped")).toBe(2);
    await until("the drop report", () => logged("notifications dropped").length === 1);
    expect(logged("notifications dropped")[0]).toMatchObject({ sink: "team", dropped: 2 });
  });

  it("never logs the URL or a header value, whatever the receiver answers", async () => {
    const secretPath = "/services/T0001/B0001/s3cr3tPathValue";
    const token = "t0ken-s3cr3tValue";
    const echo = await receiver((n) =>
      n === 0
        ? { status: 403, body: `bad token Bearer ${token} for ${secretPath}` }
        : { status: 500, body: `Authorization: Bearer ${token}` },
    );
    // A port nothing listens on: ECONNREFUSED, whose message quotes the address.
    const closed = await startReceiver();
    await closed.close();
    const { clock, counts, notifier, logs } = setup([
      sinkFor({
        name: "a",
        url: `${echo.url}${secretPath}`,
        headers: { Authorization: `Bearer ${token}` },
      }),
      sinkFor({ name: "b", url: `${echo.url}${secretPath}`, headers: { "X-Key": token } }),
      sinkFor({ name: "c", url: `${closed.url}${secretPath}`, headers: { "X-Key": token } }),
    ]);
    notifier.notify(SAMPLES.kill);
    await until("a failed", () => counts.of("a", "failed") === 1);
    await advanceUntil(
      clock,
      "b and c failed",
      () => counts.of("b", "failed") === 1 && counts.of("c", "failed") === 1,
    );
    const text = logs.text();
    expect(logs.lines.filter((l) => l.msg === LOG.NOTIFICATION_FAILED)).toHaveLength(3);
    for (const secret of ["s3cr3t", "T0001", echo.url, closed.url, "127.0.0.1"])
      expect(text).not.toContain(secret);
    expect(text).toContain("ECONNREFUSED");
    expect(text).toContain("[redacted]");
  });

  it("marks dry-run messages in both formats", async () => {
    const slack = await receiver();
    const hook = await receiver();
    const { counts, notifier } = setup([
      sinkFor({ name: "slack", type: "slack", url: slack.url }),
      sinkFor({ name: "hook", url: hook.url }),
    ]);
    notifier.notify(dryRun(SAMPLES.kill));
    await until("both", () => counts.of("slack", "sent") === 1 && counts.of("hook", "sent") === 1);
    const message = JSON.parse(slack.received[0]?.body ?? "") as SlackMessage;
    expect(message.text).toMatch(/^DRY RUN — web: would kill 2 pods; nothing was killed/);
    expect(JSON.stringify(message.blocks)).toContain("DRY RUN — nothing was killed");
    expect(JSON.parse(hook.received[0]?.body ?? "")).toMatchObject({
      dryRun: true,
      summary: expect.stringMatching(/^DRY RUN — /) as unknown,
    });
  });

  it("flush waits for the queues to empty, but no longer than its bound", async () => {
    const ok = await receiver();
    const hang = await receiver(() => "hang");
    const { clock, counts, notifier } = setup([
      sinkFor({ name: "ok", url: ok.url }),
      sinkFor({ name: "hang", url: hang.url }),
    ]);
    notifier.notify(SAMPLES.kill);
    let flushed = false;
    const flush = notifier.flush(3000).then(() => (flushed = true));
    await until("ok delivered", () => counts.of("ok", "sent") === 1);
    await until("hang tried", () => hang.received.length === 1);
    await clock.advance(2999);
    expect(flushed).toBe(false);
    await clock.advance(1);
    await flush;
    notifier.close();
    await until("the hung one counted", () => counts.of("hang", "failed") === 1);
    // Once idle, flush returns at once.
    await notifier.flush(10_000);
  });

  it("does not send to an endpoint loaded without the environment", async () => {
    const r = await receiver();
    const { counts, notifier, logged } = setup([sinkFor({ url: r.url, expanded: false })]);
    notifier.notify(SAMPLES.kill);
    await until("failed", () => counts.of("team", "failed") === 1);
    expect(r.received).toHaveLength(0);
    expect(logged(LOG.NOTIFICATION_FAILED)[0]?.reason).toBe(
      "the config was loaded without the environment",
    );
  });

  it("takes a reloaded config's sinks: a kept sink moves to its new URL, a removed one finishes", async () => {
    const before = await receiver();
    const after = await receiver();
    const { counts, notifier } = setup([
      sinkFor({ name: "kept", url: before.url }),
      sinkFor({ name: "gone", url: before.url }),
    ]);
    notifier.notify(SAMPLES.kill);
    notifier.update([sinkFor({ name: "kept", url: after.url, events: ["recovered"] })]);
    notifier.notify(SAMPLES.kill);
    notifier.notify(SAMPLES.recovered);
    await until(
      "delivered",
      () => counts.of("kept", "sent") === 2 && counts.of("gone", "sent") === 1,
    );
    expect(eventsOf(before)).toEqual(["kill"]);
    expect(eventsOf(after).sort()).toEqual(["kill", "recovered"]);
  });

  it("after close, notifications are counted dropped and nothing is sent", async () => {
    const r = await receiver();
    const { counts, notifier } = setup([sinkFor({ url: r.url })]);
    notifier.close();
    notifier.notify(SAMPLES.kill);
    expect(counts.of("team", "dropped")).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.received).toHaveLength(0);
  });
});
