// The resolved configuration: defaults applied, durations in milliseconds, regexes compiled,
// deep-frozen. Everything after the config layer reads this, never the YAML or the environment.
import type { Blackout } from "../schedule/blackout.js";
import type { NamePattern } from "../selectors/names.js";
import type { Secret } from "./env.js";
import type { SteadyState } from "./steady-state.js";
import type { TargetKind } from "../kinds.js";
export { TARGET_KINDS } from "../kinds.js";
export type { TargetKind } from "../kinds.js";

export const MODES = ["one", "all", "fixed", "fixed-percent", "random-max-percent"] as const;
export type Mode = (typeof MODES)[number];

/** What a notification sink can subscribe to (SPEC §6b). */
export const NOTIFY_EVENTS = [
  "kill",
  "recovered",
  "not_recovered",
  "objective_missed",
  "round_failed",
  "skipped",
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
/** A sink's events when it lists none: what a person wants to hear about without asking. */
export const DEFAULT_NOTIFY_EVENTS: readonly NotifyEvent[] = Object.freeze([
  "kill",
  "recovered",
  "not_recovered",
  "round_failed",
]);

export const PVC_PROTECTION = "kubernetes.io/pvc-protection";
export const PV_PROTECTION = "kubernetes.io/pv-protection";

export interface Selector {
  readonly namespaces: readonly string[];
  readonly namespaceSelector: string | undefined;
  readonly labelSelector: string | undefined;
  readonly fieldSelector: string | undefined;
  readonly annotations: Readonly<Record<string, string>>;
  /** Matched in linear time (RE2): tenants choose the names they are matched against. */
  readonly includeNames: readonly NamePattern[];
  readonly excludeNames: readonly NamePattern[];
  readonly ownerKinds: readonly string[];
  readonly includeOrphans: boolean;
  readonly minAgeMs: number;
}

export interface Action {
  /** Pods: how the victim is killed. Volumes: how their consumers are restarted. */
  readonly method: "evict" | "delete";
  readonly gracePeriodSeconds: number | undefined;
  /** Finalizers to remove after the delete is accepted; empty = strip nothing. */
  readonly stripFinalizers: readonly string[];
  readonly restartConsumers: boolean;
}

export interface Target {
  readonly name: string;
  readonly kind: TargetKind;
  readonly schedule: string;
  readonly timezone: string;
  readonly jitterMs: number;
  readonly concurrency: "Forbid" | "Allow";
  readonly selector: Selector;
  readonly mode: Mode;
  readonly value: number;
  readonly action: Action;
  readonly recoveryTimeoutMs: number;
  /** recovery.objective: a recovery whose last phase is later is a miss; undefined = none. */
  readonly recoveryObjectiveMs?: number | undefined;
  /** The target's steady-state hypothesis (its own, or the top-level default); none = none. */
  readonly steadyState?: SteadyState | undefined;
}

export interface Safety {
  /**
   * Every namespace never touched: kube-system, kube-public and kube-node-lease (unless
   * allowSystemNamespaces) plus the configured list. The monkey's own is excluded apart (Self).
   */
  readonly excludedNamespaces: readonly string[];
  /** As configured; already applied to excludedNamespaces, so only for display. */
  readonly allowSystemNamespaces: boolean;
  readonly optOutAnnotation: string;
  /** ≥ 1. A volume victim restarting its consumers costs 1 + their number. */
  readonly maxKillsPerRound: number;
  /** ≥ 1. */
  readonly maxPerOwner: number;
  readonly requireHealthy: boolean;
  readonly blackout: Blackout;
}

/** Where a sink posts: a URL and headers, `${NAME}` references expanded from the environment. */
export interface Endpoint {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /**
   * false when the config was loaded without an environment (validate): url and headers still
   * hold their `${NAME}` references, and nothing may be sent to them.
   */
  readonly expanded: boolean;
}

export interface NotifySink {
  /** Unique; a metric label. */
  readonly name: string;
  readonly type: "slack" | "webhook";
  readonly events: readonly NotifyEvent[];
  /** The environment variables its URL and headers refer to (names only, never values). */
  readonly env: readonly string[];
  /** Secret: a Slack webhook URL is a credential, and so are most headers. */
  readonly endpoint: Secret<Endpoint>;
}

export interface Config {
  readonly dryRun: boolean;
  readonly timezone: string;
  /** Empty: a new random seed per round. */
  readonly seed: string;
  readonly paused: boolean;
  readonly safety: Safety;
  readonly recoveryTimeoutMs: number;
  readonly targets: readonly Target[];
  readonly notify: readonly NotifySink[];
}
