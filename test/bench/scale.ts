// The benchmark's cluster shape at a given number of pods, and the config it runs the monkey
// with. Pure: shared by the benchmark (cluster.ts) and the memory probe (memory.ts).

export interface Scale {
  readonly pods: number;
  readonly deployments: number;
  readonly namespaces: number;
  /** Pod targets; each covers every namespace n with n % targets equal to its index. */
  readonly targets: number;
  readonly replicas: number;
  /** Deployments per namespace. */
  readonly perNamespace: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The curve's shape: 100 pods per Deployment and 5 Deployments per namespace at every scale
 * (1,000 pods: 10 Deployments in 2 namespaces; 10,000: 100 in 20; 50,000: 500 in 100), so only
 * the size grows. Targets take turns at one round per second, so their number divides 60.
 */
export function scaleOf(
  pods: number,
  given: { deployments?: number; namespaces?: number; targets?: number } = {},
): Scale {
  const deployments = given.deployments ?? Math.max(1, Math.round(pods / 100));
  const namespaces = given.namespaces ?? Math.max(1, Math.round(deployments / 5));
  const targets = given.targets ?? gcd(60, namespaces);
  if (pods % deployments !== 0 || deployments % namespaces !== 0)
    throw new Error("--deployments must divide --pods, and --namespaces --deployments");
  if (60 % targets !== 0 || namespaces % targets !== 0)
    throw new Error("--targets must divide 60 and --namespaces (each fires every N seconds)");
  return {
    pods,
    deployments,
    namespaces,
    targets,
    replicas: pods / deployments,
    perNamespace: deployments / namespaces,
  };
}

export const namespaceName = (prefix: string, i: number): string =>
  `${prefix}-${String(i).padStart(2, "0")}`;

export const APP_LABEL = "bench.chaos-monkey.io/app";

/** The namespaces target `t` covers. */
export const targetNamespaces = (scale: Scale, prefix: string, t: number): string[] =>
  Array.from({ length: scale.namespaces / scale.targets }, (_, k) =>
    namespaceName(prefix, t + k * scale.targets),
  );

/** One Pod target per turn, firing in turn so that the monkey runs one round per second. */
export function benchConfig(
  scale: Scale,
  prefix: string,
  opts: { paused?: boolean; dryRun?: boolean } = {},
): Record<string, unknown> {
  return {
    apiVersion: "chaos-monkey.io/v1",
    kind: "ChaosMonkeyConfig",
    dryRun: opts.dryRun ?? false,
    paused: opts.paused ?? false,
    timezone: "UTC",
    safety: { maxKillsPerRound: 1, maxPerOwner: 1, requireHealthy: true },
    recovery: { timeout: "2m" },
    targets: Array.from({ length: scale.targets }, (_, t) => {
      const seconds = Array.from({ length: 60 / scale.targets }, (_, k) => t + k * scale.targets);
      return {
        name: namespaceName(prefix, t),
        kind: "Pod",
        schedule: `${seconds.join(",")} * * * * *`,
        selector: { namespaces: targetNamespaces(scale, prefix, t), labelSelector: APP_LABEL },
      };
    }),
  };
}
