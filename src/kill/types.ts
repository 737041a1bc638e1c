// What a kill is, apart from how any kind is killed: the request the round makes of a killer,
// what the killer answers, and the references both carry. The engine, the killers and the
// re-check share these; none of them imports another for them.
import type { Target } from "../config/types.js";
import type { Candidate } from "../select/candidate.js";

/**
 * An object as a kill call names it: a pod, claim or volume ("" namespace for a volume), with
 * the version the kill decision was checked against (SPEC §7 threat model).
 */
export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion?: string | undefined;
}

export interface KillRequest {
  readonly victim: Candidate;
  /** The victim at the version it was re-checked at. */
  readonly ref: ObjectRef;
  readonly target: Target;
  readonly round: string;
  /** Volumes: the eligible pods mounting the claim, to restart when the target says so. */
  readonly consumers: readonly ObjectRef[];
}
export type Killer = (k: KillRequest) => Promise<KillOutcome>;

/** A fresh look at a chosen victim right before the kill. */
export type Recheck =
  | { readonly ok: true; readonly ref: ObjectRef; readonly consumers: readonly ObjectRef[] }
  | { readonly ok: false; readonly result: "gone" }
  | { readonly ok: false; readonly result: "excluded"; readonly reason: string };

export type KillOutcome =
  | {
      readonly result: "killed";
      readonly stripped?: readonly string[];
      readonly restarted?: number;
      /** Volumes: each consumer pod restarted, and how. */
      readonly consumers?: readonly ConsumerKill[];
    }
  | {
      readonly result: "terminating";
      readonly message: string;
      readonly consumers?: readonly ConsumerKill[];
    }
  | { readonly result: "pdb"; readonly message: string }
  | { readonly result: "gone" }
  | { readonly result: "changed" }
  | { readonly result: "failed"; readonly message: string; readonly code: number | undefined };

/** One consumer pod of a killed volume, restarted, and how. */
export interface ConsumerKill {
  readonly namespace: string;
  readonly name: string;
  readonly result: string;
}
