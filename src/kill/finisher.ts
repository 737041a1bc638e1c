// Crash safety (SPEC §7.4). A volume victim is marked with its round and the finalizers to strip
// before it is deleted. If the process dies between the delete and the strip, the object would
// stay Terminating for ever; the next leader finds such objects in its caches, finishes the strip
// (only the finalizers the marker names, only while the object is Terminating) and counts the
// round's recovery as aborted.
import type {
  CoreV1Api,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
} from "@kubernetes/client-node";
import { errorFields } from "../kube/errors.js";
import { MARK_ROUND, MARK_TARGET, markedStrip } from "../kube/volumes.js";
import type { Logger } from "../observe/logger.js";
import type { Metrics } from "../observe/metrics.js";
import type { Candidate } from "../select/candidate.js";
import { stripFinalizers, volumeApi } from "./volume.js";

type Volume = V1PersistentVolumeClaim | V1PersistentVolume;

export interface FinisherDeps {
  readonly core: CoreV1Api;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** True while this process itself is killing the object (its own strip follows). */
  readonly busy: (uid: string) => boolean;
  /** True when this process follows the object's recovery (so it was not interrupted). */
  readonly tracked: (uid: string) => boolean;
}

/** A marked, Terminating object with finalizers left to strip, as a candidate to act on. */
/** Is `obj` a marked, Terminating object that still has finalizers its marker asks us to strip? */
function needsFinishing(obj: Volume): boolean {
  const m = obj.metadata;
  const strip = markedStrip(m?.annotations);
  return Boolean(
    m?.annotations?.[MARK_ROUND] &&
    m.deletionTimestamp &&
    (m.finalizers ?? []).some((f) => strip.includes(f)),
  );
}

/** A marked, Terminating object with finalizers left to strip, as a candidate to act on. */
export function unfinished(
  obj: Volume,
): (Candidate & { strip: string[]; target: string }) | undefined {
  if (!needsFinishing(obj)) return undefined;
  const m = obj.metadata ?? {};
  const annotations = m.annotations ?? {};
  return {
    kind: m.namespace ? "PersistentVolumeClaim" : "PersistentVolume",
    namespace: m.namespace ?? "",
    name: m.name ?? "",
    uid: m.uid ?? "",
    labels: {},
    annotations,
    createdAtMs: 0,
    deleting: true,
    phase: undefined,
    guardNamespaces: [],
    owner: undefined,
    fields: {},
    strip: markedStrip(annotations),
    target: annotations[MARK_TARGET] ?? "unknown",
  };
}

export class Finisher {
  private readonly aborted = new Set<string>();
  private running: Promise<void> | undefined;

  constructor(private readonly deps: FinisherDeps) {}

  /** Finishes every unfinished object in `objects`; concurrent calls share one sweep. */
  sweep(objects: () => Iterable<Volume>): Promise<void> {
    this.running ??= this.run(objects).finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(objects: () => Iterable<Volume>): Promise<void> {
    const todo = [...objects()]
      .map(unfinished)
      .filter((c) => c !== undefined && !this.deps.busy(c.uid));
    for (const c of todo) if (c) await this.finish(c);
  }

  private async finish(c: NonNullable<ReturnType<typeof unfinished>>): Promise<void> {
    const { log, metrics } = this.deps;
    try {
      const stripped = await stripFinalizers(volumeApi(this.deps.core, c.kind), c, c.strip);
      for (const f of stripped) metrics.finalizerStripped(c.kind, f);
      log.warn(
        {
          victim: c.namespace ? `${c.namespace}/${c.name}` : c.name,
          round: c.annotations[MARK_ROUND],
          stripped,
        },
        "finished the strip of an interrupted round",
      );
    } catch (err) {
      metrics.error("strip");
      log.error(
        { victim: c.name, ...errorFields(err) },
        "could not finish an interrupted strip; will retry",
      );
      return;
    }
    if (this.aborted.has(c.uid) || this.deps.tracked(c.uid)) return;
    this.aborted.add(c.uid);
    metrics.recoveryOutcome(c.target, c.kind, "aborted");
  }
}
