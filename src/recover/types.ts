import type { Target } from "../config/types.js";
import type { WorkloadRef } from "../kube/objects.js";

/** `steady` only for targets with steady-state probes: whole, and every probe passing. */
export type Phase = "replaced" | "ready" | "recovered" | "steady";
export type Outcome = "recovered" | "timeout" | "gone" | "aborted";
/** The phases the cluster's objects show (steady comes from the probes). */
export const PHASES = ["replaced", "ready", "recovered"] as const;

export interface Victim {
  readonly target: Target;
  readonly round: string;
  readonly seed: string;
  readonly kind: Target["kind"];
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly owner: WorkloadRef | undefined;
  /** When the API accepted the kill: every phase is measured from here (never summed). */
  readonly killedAtMs: number;
  /** Uids of the owner's pods (for a volume: of its consumers) before the kill; a replacement is any other. */
  readonly knownUids: ReadonlySet<string>;
  /** Volumes: the workloads that used the claim, all of which must be whole again. */
  readonly consumerOwners?: readonly WorkloadRef[];
  /** Volumes: the claims that were bound (a claim victim: itself). */
  readonly claims?: readonly { readonly namespace: string; readonly name: string }[];
  /** Volumes: consumer pods were killed, so a new consumer pod must be Ready too. */
  readonly restartedConsumers?: boolean;
}

/** What the cluster shows now about one victim's recovery. */
export interface Progress {
  readonly replaced: boolean;
  readonly ready: boolean;
  readonly recovered: boolean;
  /** The workload itself was deleted. */
  readonly gone: boolean;
}

export interface RecoveryResult {
  readonly victim: Victim;
  readonly outcome: Outcome;
  /** Seconds from the kill to each phase reached. */
  readonly phases: Partial<Record<Phase, number>>;
  readonly endedAtMs: number;
  /** With probes: seconds they spent failing between the kill and steady (or the end). */
  readonly disruptionSeconds?: number;
  /** With probes, when not steady: the probes short of their streak at the end. */
  readonly notSteady?: readonly string[];
  /** The target's objective was set and this recovery took longer (or timed out). */
  readonly objectiveMissed: boolean;
}

/** Seconds from the kill to the last phase reached (0 when none was). */
export const lastPhaseSeconds = (phases: Partial<Record<Phase, number>>): number =>
  Math.max(0, ...Object.values(phases));
