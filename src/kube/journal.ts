// The journal (SPEC §7 threat model, invariants 3–5): what this monkey itself set out to kill,
// kept in a ConfigMap in its own namespace. Tenants may write annotations, labels and names on
// their own objects, so nothing written on a victim can be trusted after a crash; the monkey's
// namespace is one they cannot write (RBAC: only the monkey's ServiceAccount may update
// `chaos-monkey-journal`, by name), so what is recorded here is what the monkey decided.
//
// Why a ConfigMap: it needs no CRD (the monkey installs nothing cluster-wide), it is read and
// written with optimistic concurrency like the Lease, and it is small: an entry per victim whose
// kill or recovery is not finished (a few hundred bytes each) and the last tick run per target.
//
// Every write goes through the writes gate (the Lease term, the config being live), so a process
// that is not leading, or a dry-run one, never writes it.
import type { CoreV1Api, V1ConfigMap } from "@kubernetes/client-node";
import type { TargetKind } from "../kinds.js";
import { statusCode } from "./client.js";

export const JOURNAL_NAME = "chaos-monkey-journal";

export interface JournalEntry {
  readonly uid: string;
  readonly kind: TargetKind;
  readonly namespace: string;
  readonly name: string;
  readonly round: string;
  readonly target: string;
  /** Finalizers the round was to strip once the object is Terminating (volumes only). */
  readonly strip: readonly string[];
  /** This process's clock when the entry was written, just before the kill was sent. */
  readonly atMs: number;
}

/** The ConfigMap's data and version; undefined from read() when it does not exist. */
export interface StoredJournal {
  readonly data: Readonly<Record<string, string>>;
  readonly resourceVersion: string;
}

/** The three calls the journal makes (one real implementation over the API; fakes in tests). */
export interface JournalStore {
  read(): Promise<StoredJournal | undefined>;
  create(data: Record<string, string>): Promise<StoredJournal>;
  /** Fails with a conflict (409) when `resourceVersion` is not the current one. */
  replace(data: Record<string, string>, resourceVersion: string): Promise<StoredJournal>;
}

/** May this process write now? Returns the `done` callback of an allowed write, else undefined. */
export type WriteGate = () => (() => void) | undefined;

export class NotAllowed extends Error {
  constructor() {
    super("not leading (or dry-run): the journal is not written");
  }
}

const ENTRY = "victim.";
const TICK = "tick.";

function decode(data: Readonly<Record<string, string>>): {
  entries: Map<string, JournalEntry>;
  ticks: Map<string, number>;
} {
  const entries = new Map<string, JournalEntry>();
  const ticks = new Map<string, number>();
  for (const [k, v] of Object.entries(data)) {
    if (k.startsWith(ENTRY)) {
      try {
        const e = JSON.parse(v) as JournalEntry;
        if (typeof e.uid === "string" && Array.isArray(e.strip)) entries.set(e.uid, e);
      } catch {
        // An unreadable entry is ignored: the journal is only ever read, never trusted blindly.
      }
    } else if (k.startsWith(TICK)) {
      const n = Number(v);
      if (Number.isFinite(n)) ticks.set(k.slice(TICK.length), n);
    }
  }
  return { entries, ticks };
}

function encode(entries: ReadonlyMap<string, JournalEntry>, ticks: ReadonlyMap<string, number>) {
  const data: Record<string, string> = {};
  for (const [target, tick] of ticks) data[`${TICK}${target}`] = String(tick);
  for (const e of entries.values()) data[`${ENTRY}${e.uid}`] = JSON.stringify(e);
  return data;
}

const isConflict = (err: unknown): boolean => statusCode(err) === 409;

export class Journal {
  private entries = new Map<string, JournalEntry>();
  private ticks = new Map<string, number>();
  private version: string | undefined;
  private loaded = false;
  /** Writes run one at a time, each on the result of the one before. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: JournalStore,
    private readonly gate: WriteGate,
  ) {}

  /** Reads the journal as the API server has it (a new leader does this before acting). */
  async load(): Promise<void> {
    await this.serial(() => this.refresh());
  }

  private async refresh(): Promise<void> {
    const stored = await this.store.read();
    const { entries, ticks } = decode(stored?.data ?? {});
    this.entries = entries;
    this.ticks = ticks;
    this.version = stored?.resourceVersion;
    this.loaded = true;
  }

  get isLoaded(): boolean {
    return this.loaded;
  }

  list(): JournalEntry[] {
    return [...this.entries.values()];
  }

  has(uid: string): boolean {
    return this.entries.has(uid);
  }

  lastTick(target: string): number | undefined {
    return this.ticks.get(target);
  }

  /**
   * Records a round before its first kill: its tick (so no replica runs it again) and an entry
   * per victim. Returns false, writing nothing, when the tick was already run (by this or
   * another replica: the record is re-read on a conflict). Throws NotAllowed without the gate,
   * or the API's error: the caller then kills nothing.
   */
  recordRound(target: string, tickMs: number, victims: readonly JournalEntry[]): Promise<boolean> {
    return this.serial(() =>
      this.mutate(() => {
        const last = this.ticks.get(target);
        if (last !== undefined && last >= tickMs) return false;
        this.ticks.set(target, tickMs);
        for (const v of victims) this.entries.set(v.uid, v);
        return true;
      }),
    );
  }

  /** Drops entries whose work is done (a recovery ended, a kill failed, an object gone). */
  forget(uids: readonly string[]): Promise<void> {
    return this.serial(async () => {
      await this.mutate(() => uids.some((u) => this.entries.delete(u)));
    });
  }

  /** Applies `change` to the loaded state and writes it; on a conflict re-reads and retries. */
  private async mutate(change: () => boolean): Promise<boolean> {
    if (!this.loaded) await this.refresh();
    for (let attempt = 0; ; attempt++) {
      const before = { entries: new Map(this.entries), ticks: new Map(this.ticks) };
      if (!change()) return false;
      const done = this.gate();
      if (!done) {
        this.entries = before.entries;
        this.ticks = before.ticks;
        throw new NotAllowed();
      }
      try {
        const data = encode(this.entries, this.ticks);
        const stored =
          this.version === undefined
            ? await this.store.create(data)
            : await this.store.replace(data, this.version);
        this.version = stored.resourceVersion;
        return true;
      } catch (err) {
        this.entries = before.entries;
        this.ticks = before.ticks;
        // Someone wrote since we read (a previous leader's late write): read and decide again.
        // (A create that lost the race is a 409 AlreadyExists: the same answer.)
        if (!isConflict(err) || attempt > 0) throw err;
        await this.refresh();
      } finally {
        done();
      }
    }
  }

  /** Settles once every write asked for so far has ended. */
  async idle(): Promise<void> {
    await this.queue;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** The journal as a ConfigMap in `namespace`, through client-node's CoreV1Api. */
export function configMapJournalStore(core: CoreV1Api, namespace: string): JournalStore {
  const stored = (cm: V1ConfigMap): StoredJournal => ({
    data: cm.data ?? {},
    resourceVersion: cm.metadata?.resourceVersion ?? "",
  });
  const body = (data: Record<string, string>, resourceVersion?: string): V1ConfigMap => ({
    metadata: {
      name: JOURNAL_NAME,
      namespace,
      labels: { "app.kubernetes.io/name": "chaos-monkey" },
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    },
    data,
  });
  return {
    read: async () => {
      try {
        return stored(await core.readNamespacedConfigMap({ name: JOURNAL_NAME, namespace }));
      } catch (err) {
        if (statusCode(err) === 404) return undefined;
        throw err;
      }
    },
    create: async (data) =>
      stored(await core.createNamespacedConfigMap({ namespace, body: body(data) })),
    replace: async (data, resourceVersion) =>
      stored(
        await core.replaceNamespacedConfigMap({
          name: JOURNAL_NAME,
          namespace,
          body: body(data, resourceVersion),
        }),
      ),
  };
}
