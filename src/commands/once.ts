// chaos-monkey once: one round of each (chosen) target now, wait for recovery, print a verdict.
// The CronJob mode. Exit 0 all recovered or skipped, 3 any not recovered, 1 error, 2 bad config.
import seedrandom from "seedrandom";
import { systemClock } from "../clock.js";
import type { Config, Target } from "../config/types.js";
import { Monkey } from "../engine/monkey.js";
import type { RoundReport } from "../engine/round.js";
import { createMetrics } from "../observe/metrics.js";
import type { RecoveryResult } from "../recover/types.js";
import {
  connectCluster,
  EXIT,
  loadConfigFile,
  makeLeader,
  makeLogger,
  UsageError,
} from "./common.js";
import type { CommonOptions, Env, Io } from "./common.js";
import { renderSummary } from "./summary.js";
import type { RoundSummary } from "./summary.js";

export interface OnceOptions extends CommonOptions {
  readonly target: readonly string[];
  readonly output: "table" | "json";
  readonly force: boolean;
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

export function exitCodeFor(rounds: readonly RoundSummary[]): number {
  if (rounds.some((r) => r.report.failed || r.report.victims.some((v) => v.result === "failed")))
    return EXIT.error;
  if (rounds.some((r) => r.recoveries.some((x) => x.outcome !== "recovered")))
    return EXIT.notRecovered;
  // Deleted but held Terminating by its finalizers: the object did not go, nothing recovered.
  if (rounds.some((r) => r.report.victims.some((v) => v.result === "terminating")))
    return EXIT.notRecovered;
  return EXIT.ok;
}

export async function onceCommand(opts: OnceOptions, env: Env, io: Io): Promise<number> {
  const config = loadConfigFile(opts.config, opts.dryRun);
  const targets = chooseTargets(config, opts.target);
  const log = makeLogger(opts, true);
  const cluster = connectCluster(opts, env);
  const clock = systemClock;
  const metrics = createMetrics({ version: "once" });
  const leader = makeLeader({ cluster, dryRun: config.dryRun, clock, log });
  const monkey = new Monkey({
    clients: cluster.clients,
    clock,
    log,
    metrics,
    self: cluster.self,
    identity: cluster.identity,
    // Live: only with the Lease acquired above. Dry-run: no Lease, nothing written.
    isLeader: (c) => c.dryRun || (leader?.isLeader() ?? false),
    rng: seedrandom(),
  });
  try {
    if (leader && !(await leader.acquire(20_000))) {
      io.err(
        `another chaos-monkey holds the lease chaos-monkey in ${cluster.self.namespace}; not acting`,
      );
      return EXIT.error;
    }
    await withTimeout(
      monkey.load(config),
      opts.syncTimeoutMs ?? 60_000,
      "watch caches did not sync",
    );
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
    await leader?.release();
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000}s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
