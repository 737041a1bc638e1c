// What may be stripped (SPEC §7.3 and §7.4): finalizers come off only objects the monkey itself
// deleted, only after the API shows them Terminating, and only the ones the config names. Pure
// decisions over the API's JSON; src/kill/volume.ts and src/kill/finisher.ts act on them.
import type { V1PersistentVolume } from "@kubernetes/client-node";
import type { Config, TargetKind } from "../config/types.js";
import type { JournalEntry } from "../kube/journal.js";

export const EXTERNAL_PROVISIONER_FINALIZER = "external-provisioner.volume.kubernetes.io/finalizer";

interface Meta {
  readonly metadata?: {
    readonly uid?: string | undefined;
    /** A Date from client-node's typed reads, an RFC 3339 string from the watch caches' JSON. */
    readonly deletionTimestamp?: Date | string | null | undefined;
    readonly deletionGracePeriodSeconds?: number | undefined;
    readonly finalizers?: string[] | undefined;
  };
}

export interface StripPlan {
  /** JSON Patch: for each finalizer, a test of its current value and a remove (highest index first). */
  readonly patch: { op: "test" | "remove"; path: string; value?: string }[];
  readonly finalizers: readonly string[];
}

/**
 * Which finalizers may be stripped from `obj` now: only when it is being deleted, only those
 * `named`, only present ones, and only when it is the very object (uid) we deleted. Undefined
 * when there is nothing to do. The patch tests the uid and each value, so a concurrent change
 * makes the API refuse it (422) rather than remove the wrong entry.
 */
export function stripPlan(
  obj: Meta,
  x: { uid: string; named: readonly string[] },
): StripPlan | undefined {
  const m = obj.metadata;
  if (!m || m.uid !== x.uid || !m.deletionTimestamp) return undefined;
  const present = (m.finalizers ?? [])
    .map((f, i) => ({ f, i }))
    .filter(({ f }) => x.named.includes(f));
  if (present.length === 0) return undefined;
  const patch: StripPlan["patch"] = [{ op: "test", path: "/metadata/uid", value: x.uid }];
  for (const { f, i } of [...present].reverse())
    patch.push(
      { op: "test", path: `/metadata/finalizers/${i}`, value: f },
      { op: "remove", path: `/metadata/finalizers/${i}` },
    );
  return { patch, finalizers: present.map(({ f }) => f) };
}

/** The finalizers the current config lets the monkey strip from objects of `kind`. */
export function configuredStrip(config: Config, kind: TargetKind): Set<string> {
  return new Set(
    config.targets.filter((t) => t.kind === kind).flatMap((t) => t.action.stripFinalizers),
  );
}

/**
 * How far from the journal entry's time the delete that made the object Terminating may lie and
 * still be ours. The monkey deletes right after writing the entry, and a request that gets no
 * answer fails after 30 s (HEADERS_TIMEOUT_MS); 5 s either side is for the clocks of the monkey
 * and the API server, and for deletionTimestamp's whole seconds. A delete outside it (a tenant
 * deleting the object after the monkey crashed between the entry and its delete) is not ours.
 */
export const OUR_DELETE_WINDOW_MS = { before: 5_000, after: 35_000 } as const;

export type FinishDecision =
  | { readonly act: "strip"; readonly finalizers: readonly string[] }
  /** Nothing of ours left to do: the entry can go. */
  | { readonly act: "forget"; readonly why: string }
  /** Not yet Terminating and maybe still ours (the delete may be under way): look again later. */
  | { readonly act: "wait" };

/**
 * What the finisher does with a journal entry, given the object now under its name (undefined
 * when there is none) and the finalizers the current config allows. It never trusts anything
 * written on the object: the uid, the finalizers to strip and the time come from the journal.
 */
export function finishDecision(
  entry: JournalEntry,
  obj: Meta | undefined,
  x: { allowed: ReadonlySet<string>; nowMs: number; busy: boolean },
): FinishDecision {
  const m = obj?.metadata;
  if (!m || m.uid !== entry.uid) return { act: "forget", why: "gone" };
  if (!m.deletionTimestamp) {
    // Our delete never happened (a crash between the entry and the delete) or is still on the
    // wire: within the window it may yet land; after it, the entry is stale.
    return x.busy || x.nowMs < entry.atMs + OUR_DELETE_WINDOW_MS.after
      ? { act: "wait" }
      : { act: "forget", why: "never deleted" };
  }
  const deletedAt = epochMs(m.deletionTimestamp) - (m.deletionGracePeriodSeconds ?? 0) * 1000;
  const ours =
    deletedAt >= entry.atMs - OUR_DELETE_WINDOW_MS.before &&
    deletedAt <= entry.atMs + OUR_DELETE_WINDOW_MS.after;
  if (!ours) return { act: "forget", why: "deleted by someone else" };
  const named = entry.strip.filter((f) => x.allowed.has(f));
  const plan = stripPlan(obj, { uid: entry.uid, named });
  return plan ? { act: "strip", finalizers: plan.finalizers } : { act: "forget", why: "stripped" };
}

const epochMs = (t: Date | string): number => (t instanceof Date ? t.getTime() : Date.parse(t));

/** Why stripping this volume may leak the backing disk (logged as a warning), if it may. */
export function leakRisk(pv: V1PersistentVolume | undefined): string | undefined {
  if (!pv) return undefined;
  if (pv.metadata?.finalizers?.includes(EXTERNAL_PROVISIONER_FINALIZER))
    return "it carries the external provisioner's finalizer: stripping it skips the backend delete";
  if (pv.spec?.persistentVolumeReclaimPolicy === "Delete") return "its reclaim policy is Delete";
  return undefined;
}
