// chaos-monkey once: one round of each (chosen) target now, wait for recovery, print a verdict.
// The CronJob mode. Exit 0 all recovered or skipped, 3 any not recovered, 1 error, 2 bad config.
// Live, it holds the Lease for as long as it acts and waits (SPEC §4, §7.5): it waits a bounded
// time for the Lease, renews it while rounds and recoveries go on, and hands it over at the end
// only once no write is in flight. Losing it midway is an error (exit 1), never a quiet skip.
import seedrandom from "seedrandom";
import { systemClock, withDeadline } from "../clock.js";
import { mayAct } from "../engine/election-policy.js";
import { preflight } from "../kube/preflight.js";
import type { Config, Target } from "../config/types.js";
import { Monkey } from "../engine/monkey.js";
import { createMetrics } from "../observe/metrics.js";
import type { RecoveryResult } from "../recover/types.js";
import {
  connectCluster,
  declareConfig,
  EXIT,
  loadConfigFile,
  makeLeader,
  makeLogger,
  makeNotifier,
  UsageError,
} from "./common.js";
import type { CommonOptions, Env, Io } from "./common.js";
import { renderSummary } from "./summary.js";
import { exitCodeFor } from "./verdict.js";
import type { RoundSummary } from "./verdict.js";
import type { RoundReport } from "../engine/round-types.js";

export interface OnceOptions extends CommonOptions {
  readonly target: readonly string[];
  readonly output: "table" | "json" | "junit";
  readonly force: boolean;
  /** How long to wait for a Lease another process holds (--lease-wait). */
  readonly leaseWaitMs: number;
  readonly syncTimeoutMs?: number;
}

export function chooseTargets(config: Config, names: readonly string[]): Target[] {
  if (names.length === 0) return [...config.targets];
  return names.map((n) => {
    const t = config.targets.find((x) => x.name === n);
    if (!t)
      throw new UsageError(
        `no target named "${n}" (known: ${config.targets.map((x) => x.name).join(", ")})`,
      );
    return t;
  });
}

/** How long the end of a run waits for notifications still on their way to a sink. */
const NOTIFY_FLUSH_MS = 10_000;

export async function onceCommand(opts: OnceOptions, env: Env, io: Io): Promise<number> {
  const config = loadConfigFile(opts.config, opts.dryRun, env);
  const targets = chooseTargets(config, opts.target);
  const log = makeLogger(opts, true);
  const cluster = connectCluster(opts, env, !config.dryRun);
  const clock = systemClock;
  await preflight(cluster.clients.kc, clock);
  const metrics = createMetrics({ version: "once" });
  const leader = makeLeader({ cluster, dryRun: config.dryRun, clock, log });
  // A CronJob run announces itself like the Deployment does.
  const notifier = makeNotifier(config, { clock, log, metrics });
  declareConfig(metrics, config, clock.now());
  const monkey = new Monkey({
    clients: cluster.clients,
    clock,
    log,
    metrics,
    self: cluster.self,
    identity: cluster.identity,
    // Live: only with the Lease acquired below. Dry-run: no Lease, nothing written.
    isLeader: (c) => mayAct(c, leader),
    beginWrite: () => leader?.beginWrite(),
    announce: (n) => notifier.notify(n),
    rng: seedrandom(),
  });
  const renewing = new AbortController();
  let renewals: Promise<void> | undefined;
  try {
    if (leader && !(await leader.acquire(opts.leaseWaitMs))) {
      io.err(
        `chaos-monkey: another chaos-monkey holds the Lease chaos-monkey in namespace ${cluster.self.namespace}; waited ${opts.leaseWaitMs / 1000}s (--lease-wait), not acting`,
      );
      return EXIT.error;
    }
    renewals = leader?.run(renewing.signal);
    await withDeadline(
      clock,
      monkey.load(config),
      opts.syncTimeoutMs ?? 60_000,
      "watch caches did not sync",
    );
    if (leader) await monkey.onLeading();
    const rounds: RoundSummary[] = [];
    for (const target of targets) {
      const report: RoundReport = await monkey.round({
        target,
        tickMs: clock.now(),
        seed: opts.seed,
        force: opts.force,
      });
      const recoveries: RecoveryResult[] = await report.recoveries;
      rounds.push({ report, recoveries });
    }
    io.out(renderSummary(rounds, opts.output));
    return exitCodeFor(rounds);
  } finally {
    await monkey.stop();
    renewing.abort();
    await renewals;
    await leader?.release(5000);
    await notifier.flush(NOTIFY_FLUSH_MS);
    notifier.close();
  }
}
