// The scheduler on a fake clock: when each target's rounds fire (cron in the target's zone, the
// tick's jitter), what a late wake-up does, and how loops are replaced and stopped.
import { describe, expect, it } from "vitest";
import { FAKE_EPOCH_MS, FakeClock } from "../../test/support/fake-clock.js";
import type { Clock } from "../clock.js";
import { loadConfig } from "../config/load.js";
import type { Config, Target } from "../config/types.js";
import { createLogger } from "../observe/logger.js";
import { LOG } from "../observe/messages.js";
import { createMetrics } from "../observe/metrics.js";
import type { Metrics } from "../observe/metrics.js";
import { tickJitter } from "../schedule/jitter.js";
import { Scheduler } from "./scheduler.js";

const MINUTE = 60_000;
const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

/** A config through the real loader: `targets` is the YAML of the list's items. */
function config(targets: string, top = ""): Config {
  const r = loadConfig(
    `apiVersion: chaos-monkey.io/v1\nkind: ChaosMonkeyConfig\n${top}targets:\n${targets}`,
  );
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.config;
}

const pods = (name: string, schedule: string, extra = ""): string =>
  `  - name: ${name}\n    kind: Pod\n    schedule: "${schedule}"\n${extra}`;

interface Fired {
  readonly target: string;
  readonly tickMs: number;
  /** The clock when the round was started. */
  readonly atMs: number;
  /** The target as the scheduler handed it over (from the config its loop was started on). */
  readonly targetObject: Target;
}

type Round = (target: Target, tickMs: number) => Promise<void>;

interface Harness {
  readonly fake: FakeClock;
  readonly metrics: Metrics;
  readonly fired: Fired[];
  readonly scheduler: Scheduler;
  /** What each round does (nothing, at once, by default). */
  round: Round;
  /** The ticks fired, of one target or all, as ISO times. */
  ticks(target?: string): string[];
  logged(msg: string): Record<string, unknown>[];
}

/** A scheduler on a fake clock whose rounds are recorded and run `round`. */
function harness(opts: { startMs?: number; clock?: Clock; fake?: FakeClock } = {}): Harness {
  const fake = opts.fake ?? new FakeClock(opts.startMs ?? FAKE_EPOCH_MS);
  const clock = opts.clock ?? fake;
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: "info",
    format: "json",
    destination: {
      write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>),
    },
  });
  const metrics = createMetrics({ version: "test" });
  const fired: Fired[] = [];
  const h: Harness = {
    fake,
    metrics,
    fired,
    round: () => Promise.resolve(),
    scheduler: new Scheduler({
      clock,
      metrics,
      log,
      fire: (target, tickMs) => {
        fired.push({ target: target.name, tickMs, atMs: clock.now(), targetObject: target });
        return h.round(target, tickMs);
      },
    }),
    ticks: (target) =>
      fired.filter((f) => target === undefined || f.target === target).map((f) => iso(f.tickMs)),
    logged: (msg) => lines.filter((l) => l.msg === msg),
  };
  return h;
}

async function gauge(metrics: Metrics, name: string, labels: Record<string, string>) {
  const m = metrics.registry.getSingleMetric(`chaos_monkey_${name}`);
  if (!m) throw new Error(`no metric ${name}`);
  const { values } = await m.get();
  return values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
}

/** A promise the test settles by hand (a round still under way). */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("Scheduler: fire times", () => {
  it.each<[string, { schedule: string; zone?: string; top?: string; start: string }, string[]]>([
    [
      "a daily cron read in the target's zone (Prague, UTC+1 in winter)",
      { schedule: "0 9 * * *", zone: "Europe/Prague", start: "2026-12-02T01:02:03.123Z" },
      [
        "2026-12-02T08:00:00.000Z",
        "2026-12-03T08:00:00.000Z",
        "2026-12-04T08:00:00.000Z",
        "2026-12-05T08:00:00.000Z",
      ],
    ],
    [
      "the same cron in New York (UTC-5)",
      { schedule: "0 9 * * *", zone: "America/New_York", start: "2026-12-02T01:02:03.123Z" },
      [
        "2026-12-02T14:00:00.000Z",
        "2026-12-03T14:00:00.000Z",
        "2026-12-04T14:00:00.000Z",
        "2026-12-05T14:00:00.000Z",
      ],
    ],
    [
      "no zone of its own: the top-level one (Tokyo, UTC+9)",
      { schedule: "0 9 * * *", top: "timezone: Asia/Tokyo\n", start: "2026-12-02T01:02:03.123Z" },
      [
        "2026-12-03T00:00:00.000Z",
        "2026-12-04T00:00:00.000Z",
        "2026-12-05T00:00:00.000Z",
        "2026-12-06T00:00:00.000Z",
      ],
    ],
    [
      "a 6-field cron with seconds",
      { schedule: "*/20 * * * * *", start: "2026-12-02T01:02:03.123Z" },
      [
        "2026-12-02T01:02:20.000Z",
        "2026-12-02T01:02:40.000Z",
        "2026-12-02T01:03:00.000Z",
        "2026-12-02T01:03:20.000Z",
      ],
    ],
    [
      "@every: multiples of the interval since the epoch, whatever the start",
      { schedule: "@every 90s", start: "2026-12-02T01:02:03.123Z" },
      [
        "2026-12-02T01:03:00.000Z",
        "2026-12-02T01:04:30.000Z",
        "2026-12-02T01:06:00.000Z",
        "2026-12-02T01:07:30.000Z",
      ],
    ],
    [
      "spring forward in Prague: 02:30 does not exist on 03-29 and fires at 03:30 CEST, once",
      { schedule: "30 2 * * *", zone: "Europe/Prague", start: "2026-03-28T12:00:00Z" },
      [
        "2026-03-29T01:30:00.000Z",
        "2026-03-30T00:30:00.000Z",
        "2026-03-31T00:30:00.000Z",
        "2026-04-01T00:30:00.000Z",
      ],
    ],
  ])("%s", async (_what, x, expected) => {
    const zone = x.zone ? `    timezone: ${x.zone}\n` : "";
    const cfg = config(pods("web", x.schedule, zone), x.top);
    const h = harness({ startMs: at(x.start) });
    await h.scheduler.setConfig(cfg);
    await h.fake.advanceTo(at(expected[2] ?? "") + 1);
    // Each tick once, at its time, with the tick itself as the round's tick; none in between.
    expect(h.ticks()).toEqual(expected.slice(0, 3));
    for (const f of h.fired) expect(f.atMs).toBe(f.tickMs);
    // The gauge shows the tick the loop now waits for.
    expect(await gauge(h.metrics, "next_round_timestamp_seconds", { target: "web" })).toBe(
      at(expected[3] ?? "") / 1000,
    );
    expect(h.logged(LOG.ROUND_LATE)).toEqual([]);
    await h.scheduler.stop();
  });

  it("starts from a sub-millisecond clock without firing early or twice", async () => {
    const h = harness(); // FAKE_EPOCH_MS has microseconds
    await h.scheduler.setConfig(config(pods("web", "@every 1s")));
    await h.fake.advance(3000);
    expect(h.ticks()).toEqual([
      "2026-12-02T01:02:04.000Z",
      "2026-12-02T01:02:05.000Z",
      "2026-12-02T01:02:06.000Z",
    ]);
    for (const f of h.fired) expect(f.atMs).toBeGreaterThanOrEqual(f.tickMs);
    await h.scheduler.stop();
  });
});

describe("Scheduler: jitter", () => {
  const JITTER = 5 * MINUTE;
  const start = at("2026-12-02T10:00:30Z");
  const jittered = (name: string) => pods(name, "*/10 * * * *", "    jitter: 5m\n");

  it("delays each tick by tickJitter(target, tick) and passes the round the tick itself", async () => {
    const h = harness({ startMs: start });
    await h.scheduler.setConfig(config(jittered("web") + jittered("api")));
    await h.fake.advanceTo(at("2026-12-02T11:00:00Z"));
    const ticks = ["10:10", "10:20", "10:30", "10:40", "10:50"].map((t) =>
      at(`2026-12-02T${t}:00Z`),
    );
    for (const name of ["web", "api"]) {
      const mine = h.fired.filter((f) => f.target === name);
      expect(mine.map((f) => f.tickMs)).toEqual(ticks);
      for (const f of mine) expect(f.atMs - f.tickMs).toBe(tickJitter(JITTER, name, f.tickMs));
    }
    // The draws differ by target and by tick (a constant or unseeded delay would not).
    const delays = new Set(h.fired.map((f) => f.atMs - f.tickMs));
    expect(delays.size).toBe(h.fired.length);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(0);
    for (const d of delays) expect(d).toBeLessThan(JITTER);
    // A delay inside the jitter is not lateness.
    expect(h.logged(LOG.ROUND_LATE)).toEqual([]);
    await h.scheduler.stop();
  });

  it("two replicas, started at different times, fire the same tick at the same instant", async () => {
    const first = harness({ startMs: start });
    const second = harness({ startMs: start + 3 * MINUTE + 17 }); // a replica restarted later
    await first.scheduler.setConfig(config(jittered("web")));
    await second.scheduler.setConfig(config(jittered("web")));
    const until = at("2026-12-02T10:45:00Z");
    await first.fake.advanceTo(until);
    await second.fake.advanceTo(until);
    expect(second.fired.length).toBeGreaterThan(0);
    const when = (h: typeof first) => h.fired.map((f) => [f.tickMs, f.atMs]);
    expect(when(second)).toEqual(when(first));
    await first.scheduler.stop();
    await second.scheduler.stop();
  });
});

describe("Scheduler: late ticks", () => {
  const start = at("2026-12-02T10:00:30Z");

  it("a starved process fires the tick it waited for once, then goes on from now", async () => {
    const fake = new FakeClock(start);
    // The process is stopped for 35 minutes during its first sleep (SIGSTOP, a starved node).
    let lagMs = 35 * MINUTE;
    const starved: Clock = {
      now: () => fake.now(),
      sleep: (ms, signal) => {
        const slept = fake.sleep(ms + lagMs, signal);
        lagMs = 0;
        return slept;
      },
    };
    const h = harness({ fake, clock: starved });
    await h.scheduler.setConfig(config(pods("web", "*/10 * * * *")));
    await fake.advanceTo(at("2026-12-02T10:45:00Z"));
    expect(h.ticks()).toEqual(["2026-12-02T10:10:00.000Z"]);
    expect(h.fired[0]?.atMs).toBe(at("2026-12-02T10:45:00Z"));
    // 10:20, 10:30 and 10:40 are skipped, not run in a burst: next is the first tick after now.
    expect(await gauge(h.metrics, "next_round_timestamp_seconds", { target: "web" })).toBe(
      at("2026-12-02T10:50:00Z") / 1000,
    );
    expect(h.logged(LOG.ROUND_LATE)).toMatchObject([
      { level: 40, target: "web", lateMs: 35 * MINUTE },
    ]);
    await fake.advanceTo(at("2026-12-02T11:00:00Z"));
    expect(h.ticks()).toEqual([
      "2026-12-02T10:10:00.000Z",
      "2026-12-02T10:50:00.000Z",
      "2026-12-02T11:00:00.000Z",
    ]);
    expect(h.logged(LOG.ROUND_LATE)).toHaveLength(1);
    await h.scheduler.stop();
  });

  it("a round that overruns the next ticks skips them instead of catching up", async () => {
    const h = harness({ startMs: start });
    h.round = (_t, tickMs) =>
      tickMs === at("2026-12-02T10:10:00Z") ? h.fake.sleep(25 * MINUTE) : Promise.resolve();
    await h.scheduler.setConfig(config(pods("web", "*/10 * * * *")));
    await h.fake.advanceTo(at("2026-12-02T10:50:00Z"));
    expect(h.ticks()).toEqual([
      "2026-12-02T10:10:00.000Z",
      "2026-12-02T10:40:00.000Z",
      "2026-12-02T10:50:00.000Z",
    ]);
    expect(h.logged(LOG.ROUND_LATE)).toMatchObject([{ target: "web", lateMs: 25 * MINUTE }]);
    await h.scheduler.stop();
  });
});

describe("Scheduler: late only when a tick was skipped", () => {
  const start = at("2026-12-02T10:00:30Z");

  it("a round that takes 2 s on a 10-minute schedule skips nothing and says nothing", async () => {
    const h = harness({ startMs: start });
    h.round = () => h.fake.sleep(2000);
    await h.scheduler.setConfig(config(pods("web", "*/10 * * * *")));
    await h.fake.advanceTo(at("2026-12-02T10:30:05Z"));
    expect(h.ticks()).toEqual([
      "2026-12-02T10:10:00.000Z",
      "2026-12-02T10:20:00.000Z",
      "2026-12-02T10:30:00.000Z",
    ]);
    expect(h.logged(LOG.ROUND_LATE)).toEqual([]);
    await h.scheduler.stop();
  });
});

describe("Scheduler: setConfig and stop", () => {
  const start = at("2026-12-02T10:00:30Z");

  it("setConfig replaces the loops: the old ones stop at once, the new ones get the new config", async () => {
    const h = harness({ startMs: start });
    const a = config(pods("a", "@every 1m"));
    await h.scheduler.setConfig(a);
    await h.fake.advanceTo(at("2026-12-02T10:02:30Z"));
    expect(h.ticks("a")).toEqual(["2026-12-02T10:01:00.000Z", "2026-12-02T10:02:00.000Z"]);
    const b = config(pods("b", "@every 1m") + pods("c", "@hourly"));
    await h.scheduler.setConfig(b);
    expect(h.fake.pending).toBe(2); // b's and c's sleeps; a's was cancelled
    expect(h.scheduler.alive).toBe(true);
    await h.fake.advanceTo(at("2026-12-02T10:05:00Z"));
    expect(h.ticks("a")).toHaveLength(2);
    expect(h.ticks("b")).toEqual([
      "2026-12-02T10:03:00.000Z",
      "2026-12-02T10:04:00.000Z",
      "2026-12-02T10:05:00.000Z",
    ]);
    for (const f of h.fired)
      expect(f.targetObject).toBe(
        (f.target === "a" ? a : b).targets.find((t) => t.name === f.target),
      );
    await h.scheduler.stop();
  });

  it("setConfig waits for a round under way, and its loop starts no other", async () => {
    const h = harness({ startMs: start });
    const running = deferred();
    h.round = (t) => (t.name === "a" ? running.promise : Promise.resolve());
    await h.scheduler.setConfig(config(pods("a", "@every 1m")));
    await h.fake.advanceTo(at("2026-12-02T10:01:00Z"));
    expect(h.ticks("a")).toHaveLength(1);
    let replaced = false;
    const replacing = h.scheduler
      .setConfig(config(pods("b", "@every 1m")))
      .then(() => (replaced = true));
    await h.fake.advance(5000);
    expect(replaced).toBe(false); // the round's kills are not abandoned half-way
    running.resolve();
    await replacing;
    await h.fake.advanceTo(at("2026-12-02T10:04:00Z"));
    expect(h.ticks("a")).toHaveLength(1);
    expect(h.ticks("b")).toEqual([
      "2026-12-02T10:02:00.000Z",
      "2026-12-02T10:03:00.000Z",
      "2026-12-02T10:04:00.000Z",
    ]);
    await h.scheduler.stop();
  });

  it("stop() ends every loop; alive only while loops run", async () => {
    const h = harness({ startMs: start });
    expect(h.scheduler.alive).toBe(false);
    await h.scheduler.stop(); // nothing to stop
    await h.scheduler.setConfig(config(pods("a", "@every 1m") + pods("b", "@every 1m")));
    expect(h.scheduler.alive).toBe(true);
    await h.scheduler.stop();
    expect(h.scheduler.alive).toBe(false);
    expect(h.fake.pending).toBe(0);
    await h.fake.advance(60 * MINUTE);
    expect(h.fired).toEqual([]);
    await h.scheduler.stop(); // twice is fine
    await h.scheduler.setConfig(config(pods("a", "@every 1m")));
    expect(h.scheduler.alive).toBe(true);
    await h.fake.advance(MINUTE);
    expect(h.ticks()).toHaveLength(1);
    await h.scheduler.stop();
  });

  it("a round that fails is counted and logged, and the loop goes on", async () => {
    const h = harness({ startMs: start });
    h.round = (_t, tickMs) =>
      tickMs === at("2026-12-02T10:01:00Z") ? Promise.reject(new Error("boom")) : Promise.resolve();
    await h.scheduler.setConfig(config(pods("a", "@every 1m")));
    await h.fake.advanceTo(at("2026-12-02T10:02:00Z"));
    expect(h.ticks()).toEqual(["2026-12-02T10:01:00.000Z", "2026-12-02T10:02:00.000Z"]);
    expect(await gauge(h.metrics, "errors_total", { operation: "round" })).toBe(1);
    expect(h.logged("round crashed")).toMatchObject([
      { level: 50, target: "a", err: { message: "boom" } },
    ]);
    expect(h.scheduler.alive).toBe(true);
    await h.scheduler.stop();
  });

  it("a loop that ends on its own makes alive false; the other loops go on", async () => {
    const h = harness({ startMs: start });
    const good = config(pods("a", "@every 1m") + pods("b", "@every 1m"));
    // A schedule the loader would refuse, slipped past it: that loop has nothing to run.
    const [a, b] = good.targets;
    if (!a || !b) throw new Error("two targets");
    await h.scheduler.setConfig({ ...good, targets: [a, { ...b, schedule: "not a schedule" }] });
    await h.fake.advance(0);
    expect(h.scheduler.alive).toBe(false);
    await h.fake.advanceTo(at("2026-12-02T10:02:00Z"));
    expect(h.ticks("a")).toHaveLength(2);
    expect(h.ticks("b")).toEqual([]);
    await h.scheduler.stop();
  });

  it("a loop that throws is logged and ends (alive false), with no unhandled rejection; a good config revives it", async () => {
    const h = harness({ startMs: start });
    const good = config(pods("a", "@every 1m"));
    const [a] = good.targets;
    if (!a) throw new Error("one target");
    // A zone that got past validation and that the cron library cannot evaluate.
    await h.scheduler.setConfig({ ...good, targets: [{ ...a, timezone: "Not/A_Zone" }] });
    await h.fake.advance(0);
    expect(h.scheduler.alive).toBe(false);
    expect(h.logged("schedule failed; the target is not scheduled")).toMatchObject([
      { level: 50, target: "a" },
    ]);
    expect(await gauge(h.metrics, "errors_total", { operation: "schedule" })).toBe(1);
    await h.scheduler.setConfig(good); // stop() inside it resolves: the loop's failure was caught
    expect(h.scheduler.alive).toBe(true);
    await h.fake.advanceTo(at("2026-12-02T10:02:00Z"));
    expect(h.ticks("a")).toHaveLength(2);
    await h.scheduler.stop();
  });
});
