// chaos-monkey run: long-running. Schedules every target, leader-elected, hot-reloads the config
// file, serves /metrics, /healthz and /readyz. Returns 0 once `stop` aborts (SIGTERM) and
// everything has shut down: open recoveries counted aborted, the lease handed over. Shutdown
// waits only so long for what needs the API server (a round's kill, the Lease release): one that
// does not answer must not keep the process past its grace period.
import seedrandom from "seedrandom";
import type { Clock } from "../clock.js";
import { settlesWithin, systemClock } from "../clock.js";
import { preflight } from "../kube/preflight.js";
import { watchConfigFile } from "../config/reload.js";
import type { Config } from "../config/types.js";
import { Monkey } from "../engine/monkey.js";
import { roundId } from "../engine/round.js";
import { ElectionPolicy } from "../engine/election-policy.js";
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
import type { HttpServer } from "../observe/http.js";
import type { Logger } from "../observe/logger.js";
import type { Metrics } from "../observe/metrics.js";
import type { Notifier } from "../notify/notifier.js";
import { LOG } from "../observe/messages.js";

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

export async function runCommand(
  opts: CommonOptions,
  env: Env,
  stop: AbortSignal,
): Promise<number> {
  const config = loadConfigFile(opts.config, opts.dryRun, env);
  const parts = await build(opts, env, config, stop);
  const apply = (next: Config) => applyConfig(parts, opts.dryRun ? withDryRun(next) : next, stop);
  const { log, metrics, monkey, clock } = parts;
  const reloader = watchConfigFile(opts.config, readConfigText(opts.config), {
    onConfig: apply,
    env,
    clock,
    onInvalid: (errors) => {
      metrics.configReload("failure");
      log.error({ errors }, LOG.CONFIG_RELOAD_REJECTED);
    },
  });
  // Blackout windows open and close between ticks: chaos_monkey_active is refreshed on its own.
  const activeLoop = (async () => {
    while (!stop.aborted) {
      if (monkey.config) refreshActive(metrics, monkey.config, clock.now());
      await clock.sleep(ACTIVE_REFRESH_MS, stop).catch(() => undefined);
    }
  })();
  try {
    await apply(config);
    await new Promise<void>((resolve) =>
      stop.addEventListener("abort", () => resolve(), { once: true }),
    );
  } catch (err) {
    if (!stop.aborted) {
      log.error({ err }, "run failed");
      return EXIT.error;
    }
  } finally {
    reloader.close();
    await shutDown(parts);
    await activeLoop;
    await parts.http.close();
    log.info(LOG.STOPPED);
  }
  return EXIT.ok;
}

/** The long-running process's parts, wired together; nothing is scheduled until a config is applied. */
interface Parts {
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly election: ElectionPolicy;
  readonly notifier: Notifier;
  readonly monkey: Monkey;
  readonly scheduler: Scheduler;
  readonly http: HttpServer;
  /** Ids of the rounds running now. */
  readonly inFlight: Set<string>;
}

async function build(
  opts: CommonOptions,
  env: Env,
  config: Config,
  stop: AbortSignal,
): Promise<Parts> {
  const log = makeLogger(opts);
  // Live unless --dry-run: a reload may turn a dry-run config live.
  const cluster = connectCluster(opts, env, !opts.dryRun);
  const clock = systemClock;
  await preflight(cluster.clients.kc, clock);
  const metrics = createMetrics({ version: VERSION, collectDefault: true });
  // Only --dry-run rules out a Lease for the process's life; otherwise the election follows the
  // loaded config (a reload may turn a dry-run config live).
  const leading = { monkey: undefined as Monkey | undefined };
  const elector = makeLeader({ cluster, dryRun: Boolean(opts.dryRun), clock, log }, (l) => {
    metrics.setLeader(l);
    // A new leader reads the journal and finishes what a crashed one left (SPEC §7.4).
    if (l) void leading.monkey?.onLeading();
  });
  const election = new ElectionPolicy(elector, stop);
  const notifier = makeNotifier(config, { clock, log, metrics });
  const monkey = new Monkey({
    ...cluster,
    clock,
    log,
    metrics,
    isLeader: (c) => election.mayAct(c),
    beginWrite: election.beginWrite,
    announce: (n) => notifier.notify(n),
    rng: seedrandom(), // auto-seeded: backoff jitter and new round seeds, never a round's choices
  });
  leading.monkey = monkey;
  const inFlight = new Set<string>();
  const scheduler = new Scheduler({
    clock,
    metrics,
    log,
    fire: async (target, tickMs) => {
      const id = roundId(target.name, tickMs);
      inFlight.add(id);
      try {
        const report = await monkey.round({ target, tickMs, seed: opts.seed });
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
  return { clock, log, metrics, election, notifier, monkey, scheduler, http, inFlight };
}

/** Puts `next` in force: caches synced first, then the Lease, the schedules, the sinks, the metrics. */
async function applyConfig(p: Parts, next: Config, stop: AbortSignal): Promise<void> {
  const before = new Set(p.monkey.config?.targets.map((t) => t.name));
  await p.monkey.load(next, stop);
  p.election.follow(next);
  // Dry-run replicas all act (writing nothing), so each reports itself as leading.
  p.metrics.setLeader(p.election.mayAct(next));
  await p.scheduler.setConfig(next);
  p.notifier.update(next.notify);
  for (const name of before)
    if (!next.targets.some((t) => t.name === name)) p.metrics.forgetTarget(name);
  declareConfig(p.metrics, next, p.clock.now());
  p.metrics.configReload("success");
  p.log.info({ targets: next.targets.map((t) => t.name), dryRun: next.dryRun }, LOG.CONFIG_LOADED);
}

/** Stops in the order that loses least, each API-bound step bounded (WAIT_MS). */
async function shutDown(p: Parts): Promise<void> {
  const { clock, log } = p;
  log.info({ inFlight: p.monkey.config?.targets.map((t) => t.name) }, "shutting down");
  if (!(await settlesWithin(clock, p.scheduler.stop(), WAIT_MS.rounds)))
    log.warn(
      { rounds: [...p.inFlight], waitedMs: WAIT_MS.rounds },
      "stopping without rounds whose API calls are unanswered; their kills may or may not have happened",
    );
  if (!(await settlesWithin(clock, p.monkey.stop(), WAIT_MS.watches)))
    log.warn({ waitedMs: WAIT_MS.watches }, "watches not closed in time");
  if (!(await settlesWithin(clock, p.election.close(RELEASE_WAIT_MS), WAIT_MS.lease)))
    log.warn({ waitedMs: WAIT_MS.lease }, "lease not released in time; it will expire");
  // What waits for a sink gets a bounded last chance; the rest is counted dropped.
  await p.notifier.flush(WAIT_MS.notify);
  p.notifier.close();
}
