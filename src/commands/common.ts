// What every command shares: options from the command line (and the few environment variables
// SPEC §4 names, read here and nowhere else), the config file, logger and cluster connection.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { pino } from "pino";
import seedrandom from "seedrandom";
import { Notifier } from "../notify/index.js";
import type { Metrics } from "../observe/metrics.js";
import { activeWindow, isActive } from "../schedule/active.js";
import { loadConfig } from "../config/load.js";
import type { Config } from "../config/types.js";
import type { Clock } from "../clock.js";
import { loadKubeConfig, makeClients, ownNamespace } from "../kube/client.js";
import { LeaderElector } from "../kube/leader.js";
import { httpLeaseApi } from "../kube/lease-api.js";
import type { KubeClients } from "../kube/client.js";
import { createLogger } from "../observe/logger.js";
import type { LogFormat, Logger } from "../observe/logger.js";
import type { Self } from "../select/candidate.js";

export const EXIT = { ok: 0, error: 1, usage: 2, notRecovered: 3 } as const;

export interface CommonOptions {
  readonly config: string;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly dryRun?: boolean;
  readonly seed?: string;
  readonly logLevel: string;
  readonly logFormat: LogFormat;
  readonly listen: string;
  readonly namespace?: string;
}

/**
 * The process environment, passed in so commands never read process.env themselves. Besides
 * the variables named here, `${NAME}` in probes and sinks reads any other.
 */
export interface Env {
  readonly [name: string]: string | undefined;
  readonly CHAOS_MONKEY_CONFIG?: string | undefined;
  readonly KUBERNETES_SERVICE_HOST?: string | undefined;
  readonly POD_NAME?: string | undefined;
  readonly POD_NAMESPACE?: string | undefined;
}

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export class UsageError extends Error {}

export const DEFAULT_CONFIG_PATH = "/etc/chaos-monkey/config.yaml";

export function readConfigText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(
      `cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

/**
 * Loads and validates the config file, applying --dry-run, with `${NAME}` taken from `env`; a
 * bad file (a missing variable included) is a usage error (exit 2).
 */
export function loadConfigFile(path: string, dryRunFlag: boolean | undefined, env?: Env): Config {
  const result = loadConfig(readConfigText(path), env);
  if (!result.ok)
    throw new UsageError(`${path} is not a valid config:\n  ${result.errors.join("\n  ")}`);
  return dryRunFlag ? withDryRun(result.config) : result.config;
}

export function withDryRun(config: Config): Config {
  return Object.freeze({ ...config, dryRun: true });
}

/** `toStderr` for commands whose own output (a table, JSON) owns stdout. */
export function makeLogger(opts: CommonOptions, toStderr = false): Logger {
  return createLogger({
    level: opts.logLevel,
    format: opts.logFormat,
    ...(toStderr ? { destination: pino.destination({ dest: 2, sync: true }) } : {}),
  });
}

export interface Cluster {
  readonly clients: KubeClients;
  readonly self: Self;
  readonly identity: string;
}

/**
 * `live`: the command may write (not --dry-run, config not dry-run). Out of a cluster its home
 * namespace must then be named: guessing the kubeconfig context's (often `default`) would put the
 * Lease and the journal beside nothing, and a laptop `once` would not exclude the in-cluster
 * Deployment's namespace or wait for its Lease.
 */
export function connectCluster(opts: CommonOptions, env: Env, live = false): Cluster {
  const inCluster = !opts.kubeconfig && Boolean(env.KUBERNETES_SERVICE_HOST);
  const home = opts.namespace ?? env.POD_NAMESPACE;
  if (live && home === undefined && !inCluster)
    throw new UsageError(
      "out of a cluster a live run needs --namespace: the monkey's own namespace (where the Lease and the journal live, e.g. chaos-monkey); or use --dry-run",
    );
  const kc = loadKubeConfig({ kubeconfig: opts.kubeconfig, context: opts.context, inCluster });
  const namespace = home ?? ownNamespace(kc, inCluster);
  const podName = env.POD_NAME ?? (inCluster ? hostname() : undefined);
  const identity = podName ?? `${hostname()}-${randomBytes(4).toString("hex")}`;
  return { clients: makeClients(kc), self: { namespace, podName }, identity };
}

/** The Lease elector, or none in dry-run: dry-run writes nothing at all, not even the Lease. */
export function makeLeader(
  x: { cluster: Cluster; dryRun: boolean; clock: Clock; log: Logger },
  onChange?: (leader: boolean) => void,
): LeaderElector | undefined {
  if (x.dryRun) return undefined;
  return new LeaderElector({
    lease: httpLeaseApi(x.cluster.clients.kc, x.cluster.self.namespace, "chaos-monkey"),
    identity: x.cluster.identity,
    clock: x.clock,
    log: x.log,
    ...(onChange ? { onChange } : {}),
  });
}

/** The sinks' Notifier (SPEC §6b): its jitter from an unseeded generator, every outcome counted. */
export function makeNotifier(
  config: Config,
  x: { clock: Clock; log: Logger; metrics: Metrics },
): Notifier {
  return new Notifier({
    sinks: config.notify,
    clock: x.clock,
    rng: seedrandom(),
    log: x.log,
    count: (sink, result) => x.metrics.notification(sink, result),
  });
}

/**
 * Puts a loaded config's series in place: every target's and sink's counters at 0, each
 * target's objective where it has one, and whether each target is active now.
 */
export function declareConfig(metrics: Metrics, config: Config, nowMs: number): void {
  for (const t of config.targets) {
    metrics.declareTarget(t.name, t.kind);
    metrics.setObjective(
      t.name,
      t.recoveryObjectiveMs === undefined ? undefined : t.recoveryObjectiveMs / 1000,
    );
  }
  for (const sink of config.notify) metrics.declareSink(sink.name);
  refreshActive(metrics, config, nowMs);
}

/** chaos_monkey_active per target: would a round run now (not paused, not in a blackout)? */
export function refreshActive(metrics: Metrics, config: Config, nowMs: number): void {
  for (const t of config.targets)
    metrics.setActive(t.name, isActive(activeWindow(config, t), new Date(nowMs)));
}
