// chaos-monkey run: long-running. Schedules every target, leader-elected, hot-reloads the config
// file, serves /metrics, /healthz and /readyz. Returns 0 once `stop` aborts (SIGTERM) and
// everything has shut down: open recoveries counted aborted, the lease handed over. Shutdown
// waits only so long for what needs the API server (a round's kill, the Lease release): one that
// does not answer must not keep the process past its grace period.
import seedrandom from "seedrandom";
import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import { preflight } from "../kube/preflight.js";
import { watchConfigFile } from "../config/reload.js";
import type { Config } from "../config/types.js";
import { Monkey } from "../engine/monkey.js";
import { roundId } from "../engine/round.js";
import { Leadership } from "../kube/leadership.js";
import { Scheduler } from "../engine/scheduler.js";
import { startHttpServer } from "../observe/http.js";
import { createMetrics } from "../observe/metrics.js";
import { VERSION } from "../version.js";
import {
  connectCluster,
  declareConfig,
  EXIT,
  loadConfigFile,
  makeLeader,
  makeLogger,
  makeNotifier,
  readConfigText,
  refreshActive,
  withDryRun,
} from "./common.js";
import type { CommonOptions, Env } from "./common.js";

/**
 * How long shutdown waits for each step that needs the API server: a round's kill (milliseconds
 * when all is well), closing the watches (open recoveries are counted aborted before that), and
 * handing the Lease over (unreleased, it expires in 15 s). Together well inside the 30 s grace
 * period of the shipped Deployment.
 */
const WAIT_MS = { rounds: 5000, watches: 2000, lease: 2000, notify: 3000 } as const;
/** How often chaos_monkey_active is brought up to date (blackout windows have minute precision). */
const ACTIVE_REFRESH_MS = 15_000;
/** Of the Lease's share: how long its release waits for writes still in flight. */
const RELEASE_WAIT_MS = 1000;

/** Resolves true once `work` settles, or false after `ms` (the work goes on unawaited). */
async function settlesWithin(clock: Clock, work: Promise<unknown>, ms: number): Promise<boolean> {
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

export async function runCommand(
  opts: CommonOptions,
  env: Env,
  stop: AbortSignal,
): Promise<number> {
  const config = loadConfigFile(opts.config, opts.dryRun, env);
  const log = makeLogger(opts);
  // Live unless --dry-run: a reload may turn a dry-run config live.
  const cluster = connectCluster(opts, env, !opts.dryRun);
  const clock = systemClock;
  await preflight(cluster.clients.kc, clock);
  const metrics = createMetrics({ version: VERSION, collectDefault: true });
  const backoff = seedrandom();
  // Only --dry-run rules out a Lease for the process's life; otherwise the election follows the
  // loaded config (a reload may turn a dry-run config live).
  const elector = makeLeader({ cluster, dryRun: Boolean(opts.dryRun), clock, log }, (l) => {
    metrics.setLeader(l);
    // A new leader reads the journal and finishes what a crashed one left (SPEC §7.4).
    if (l) void monkey.onLeading();
  });
  const leadership = new Leadership(elector, stop);
  const notifier = makeNotifier(config, { clock, log, metrics });
  const inFlight = new Set<string>(); // ids of rounds running now
  const monkey = new Monkey({
    ...cluster,
    clock,
    log,
    metrics,
    isLeader: (c) => leadership.mayAct(c),
    beginWrite: leadership.beginWrite,
    announce: (n) => notifier.notify(n),
    rng: backoff,
  });
  const scheduler = new Scheduler({
    clock,
    metrics,
    log,
    fire: async (_cfg, target, tickMs) => {
      const current = monkey.config?.targets.find((t) => t.name === target.name) ?? target;
      const id = roundId(target.name, tickMs);
      inFlight.add(id);
      try {
        const report = await monkey.round({ target: current, tickMs, seed: opts.seed });
        // Recoveries end on their own, logged and counted; one that cannot even start because
        // shutdown stopped the monkey under a late kill must not become an unhandled rejection.
        report.recoveries.catch((err: unknown) =>
          log.warn({ err, round: id }, "recovery not followed: the monkey was stopping"),
        );
      } finally {
        inFlight.delete(id);
      }
    },
  });
  const http = await startHttpServer({
    listen: opts.listen,
    registry: metrics.registry,
    healthy: () => scheduler.alive,
    ready: () => monkey.ready,
    log,
  });
  log.info(
    {
      listen: http.address,
      identity: cluster.identity,
      namespace: cluster.self.namespace,
      dryRun: config.dryRun,
      targets: config.targets.length,
    },
    "starting",
  );
  const reloader = watchConfigFile(opts.config, readConfigText(opts.config), {
    onConfig: async (next) => applyConfig(opts.dryRun ? withDryRun(next) : next),
    env,
    onInvalid: (errors) => {
      metrics.configReload("failure");
      log.error({ errors }, "config reload rejected; the last good config stays in force");
    },
  });
  const applyConfig = async (next: Config) => {
    const before = new Set(monkey.config?.targets.map((t) => t.name));
    await monkey.load(next, stop);
    leadership.follow(next);
    // Dry-run replicas all act (writing nothing), so each reports itself as leading.
    metrics.setLeader(leadership.mayAct(next));
    await scheduler.setConfig(next);
    notifier.update(next.notify);
    for (const name of before)
      if (!next.targets.some((t) => t.name === name)) metrics.forgetTarget(name);
    declareConfig(metrics, next, clock.now());
    metrics.configReload("success");
    log.info({ targets: next.targets.map((t) => t.name), dryRun: next.dryRun }, "config loaded");
  };
  // Blackout windows open and close between ticks: chaos_monkey_active is refreshed on its own.
  const activeLoop = (async () => {
    while (!stop.aborted) {
      if (monkey.config) refreshActive(metrics, monkey.config, clock.now());
      await clock.sleep(ACTIVE_REFRESH_MS, stop).catch(() => undefined);
    }
  })();
  try {
    await applyConfig(config);
    await new Promise<void>((resolve) =>
      stop.addEventListener("abort", () => resolve(), { once: true }),
    );
  } catch (err) {
    if (!stop.aborted) {
      log.error({ err }, "run failed");
      return EXIT.error;
    }
  } finally {
    log.info({ inFlight: monkey.config?.targets.map((t) => t.name) }, "shutting down");
    reloader.close();
    if (!(await settlesWithin(clock, scheduler.stop(), WAIT_MS.rounds)))
      log.warn(
        { rounds: [...inFlight], waitedMs: WAIT_MS.rounds },
        "stopping without rounds whose API calls are unanswered; their kills may or may not have happened",
      );
    if (!(await settlesWithin(clock, monkey.stop(), WAIT_MS.watches)))
      log.warn({ waitedMs: WAIT_MS.watches }, "watches not closed in time");
    if (!(await settlesWithin(clock, leadership.close(RELEASE_WAIT_MS), WAIT_MS.lease)))
      log.warn({ waitedMs: WAIT_MS.lease }, "lease not released in time; it will expire");
    // What waits for a sink gets a bounded last chance; the rest is counted dropped.
    await notifier.flush(WAIT_MS.notify);
    notifier.close();
    await activeLoop;
    await http.close();
    log.info("stopped");
  }
  return EXIT.ok;
}
