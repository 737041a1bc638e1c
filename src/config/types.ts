// The resolved configuration: defaults applied, durations in milliseconds, regexes compiled,
// deep-frozen. Everything after the config layer reads this, never the YAML or the environment.
import type { Blackout } from "../schedule/blackout.js";
import type { NamePattern } from "../select/names.js";

export const TARGET_KINDS = ["Pod", "PersistentVolumeClaim", "PersistentVolume"] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export const MODES = ["one", "all", "fixed", "fixed-percent", "random-max-percent"] as const;
export type Mode = (typeof MODES)[number];

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

export interface Config {
  readonly dryRun: boolean;
  readonly timezone: string;
  /** Empty: a new random seed per round. */
  readonly seed: string;
  readonly paused: boolean;
  readonly safety: Safety;
  readonly recoveryTimeoutMs: number;
  readonly targets: readonly Target[];
}
