// A watch cache of one resource path with the properties the monkey needs and client-node's
// ListWatch lacks: an explicit `synced` state (never kill from a stale cache), restart with
// jittered exponential backoff after *any* error (ListWatch stops on errors other than 410),
// bookmarks (fewer 410s after compaction), and the arrival time of every event, which recovery
// measurement is built on.
//
// The cache fills from a streaming list (KEP-3157): a watch with sendInitialEvents=true sends
// the current objects one event at a time, then a bookmark annotated
// k8s.io/initial-events-end, at which the cache is whole. No response body ever holds the whole
// list, so the peak memory of a (re)list is one event, not one list of every pod. A server that
// refuses the parameter gets a paginated LIST (bounded pages) and a watch from its version
// instead. Relists after 410 Gone or after an outage take the same path.
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { Clock } from "../clock.js";
import { apiUrl, getJson, HttpError, watchJson } from "./http.js";
import type { RetryNow } from "./retry.js";

export type InformerEventType = "add" | "update" | "delete";
export interface InformerEvent<T> {
  readonly type: InformerEventType;
  readonly object: T;
  /** Clock time the event reached this process. */
  readonly atMs: number;
}

export interface ListPage {
  readonly items?: readonly KubernetesObject[];
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
}

export interface WatchRequest {
  /** Where to resume; "" with sendInitialEvents: the current state, read consistently. */
  readonly resourceVersion: string;
  /** Begin with the current objects as ADDED events, then the initial-events-end bookmark. */
  readonly sendInitialEvents: boolean;
  /** The server ends the watch after this long. */
  readonly timeoutSeconds: number;
}

export interface WatchCallbacks {
  /** The server accepted the watch. */
  readonly onOpen: () => void;
  readonly onEvent: (type: string, object: unknown) => void;
}

/** What the cache needs of the API server for one path: one real implementation, apiListWatch. */
export interface ListWatch {
  list(
    page: { readonly limit: number; readonly continue?: string | undefined },
    signal: AbortSignal,
  ): Promise<ListPage>;
  /** Resolves when the server ends the watch; rejects with HttpError when it refuses it. */
  watch(req: WatchRequest, on: WatchCallbacks, signal: AbortSignal): Promise<void>;
}

export interface ApiScope {
  readonly kc: KubeConfig;
  readonly path: string;
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
}

/** The cache's calls on the API server at `path`, narrowed by the selectors. */
export function apiListWatch({ kc, path, labelSelector, fieldSelector }: ApiScope): ListWatch {
  const selectors = { labelSelector, fieldSelector };
  return {
    list: async (page, signal) =>
      (await getJson(
        kc,
        apiUrl(kc, path, { ...selectors, limit: String(page.limit), continue: page.continue }),
        signal,
      )) as ListPage,
    watch: (req, on, signal) =>
      watchJson(
        kc,
        apiUrl(kc, path, {
          ...selectors,
          watch: "true",
          allowWatchBookmarks: "true",
          timeoutSeconds: String(req.timeoutSeconds),
          resourceVersion: req.resourceVersion || undefined,
          // NOTES §6: the only combination the API server accepts.
          ...(req.sendInitialEvents
            ? { sendInitialEvents: "true", resourceVersionMatch: "NotOlderThan" }
            : {}),
        }),
        { ...on, signal },
      ),
  };
}

interface Common {
  readonly clock: Clock;
  /** For backoff jitter and watch timeouts; not a round's seeded generator. */
  readonly rng: () => number;
  /** A watch or list failed (the cache retries), or an event handler threw. */
  readonly onError?: (err: unknown, attempt: number) => void;
  /** Objects per page of the fallback LIST. */
  readonly pageSize?: number;
  /** Shared by a view's caches: one getting through again wakes the others from backoff. */
  readonly retryNow?: RetryNow;
  /** What the cache keeps of each object (default: all but managedFields). */
  readonly transform?: (obj: KubernetesObject) => KubernetesObject;
}

/** An API path and its selectors, or (in unit tests) the calls themselves. */
export type InformerOptions = Common & (ApiScope | { readonly source: ListWatch });

/** managedFields are often half an object's size and the monkey never reads them. */
function slim<T extends KubernetesObject>(obj: T): T {
  if (obj.metadata?.managedFields) delete obj.metadata.managedFields;
  return obj;
}

const BASE_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
/** Caches woken together spread their retries over this long. */
const WAKE_JITTER_MS = 1000;
/** Bounded pages for the fallback LIST: one page decoded at a time. */
const PAGE_SIZE = 500;
export const INITIAL_EVENTS_END = "k8s.io/initial-events-end";

/**
 * The server does not serve streaming lists: the request itself is refused (an API server
 * before 1.27 or with the WatchList gate off answers 422 Invalid, as may a proxy or an
 * aggregated server without a watch cache, with 400, or 403 "not supported"). A 403 from RBAC
 * names the verb, not the parameter, and is not a refusal of this kind: the LIST would fail too.
 */
export function refusesStreamingList(err: unknown): boolean {
  if (!(err instanceof HttpError)) return false;
  if (err.statusCode === 400 || err.statusCode === 422) return true;
  return (
    [403, 405, 501].includes(err.statusCode) &&
    /sendInitialEvents|not supported|watch-?list/i.test(err.message)
  );
}

/** A watch's ERROR event: a Status object. */
function statusError(obj: unknown): HttpError {
  const s = obj as { code?: number; message?: string; reason?: string } | null;
  return new HttpError(s?.code ?? 500, `watch: ${s?.code ?? "?"} ${s?.message ?? s?.reason ?? ""}`);
}

export class Informer<T extends KubernetesObject> {
  /**
   * Objects by namespace, then name: the keys are the objects' own strings, where a
   * "namespace/name" key would be one more string per object (half a MiB per 10,000 pods).
   */
  private readonly objects = new Map<string, Map<string, T>>();
  private count = 0;
  private readonly handlers: ((e: InformerEvent<T>) => void)[] = [];
  private readonly syncWaiters: (() => void)[] = [];
  private readonly source: ListWatch;
  /** Where the next watch resumes; "" when the cache must be relisted. */
  private resourceVersion = "";
  /** A relist is under way: the cache is filling and is not yet whole. */
  private relisting = false;
  /** Objects the relist under way has seen (none kept when it began on an empty cache). */
  private seen: Set<T> | undefined;
  private abort = new AbortController();
  private running: Promise<void> | undefined;
  private failures = 0;
  private _synced = false;
  /** Watch (re)connections after the first, for the benchmark and fault tests. */
  reconnects = 0;
  private connections = 0;
  /** Completed relists by how they were made: streaming watches, or paginated LISTs. */
  readonly relists = { streamed: 0, paged: 0 };

  constructor(private readonly opts: InformerOptions) {
    this.source = "source" in opts ? opts.source : apiListWatch(opts);
  }

  get synced(): boolean {
    return this._synced;
  }

  on(handler: (e: InformerEvent<T>) => void): void {
    this.handlers.push(handler);
  }

  get(namespace: string, name: string): T | undefined {
    return this.objects.get(namespace)?.get(name);
  }

  *list(): IterableIterator<T> {
    for (const names of this.objects.values()) yield* names.values();
  }

  get size(): number {
    return this.count;
  }

  start(): void {
    if (this.running) return;
    this.abort = new AbortController();
    this.running = this.loop(this.abort.signal);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    this.running = undefined;
    this._synced = false;
  }

  /** Resolves once the cache holds a complete list and its watch is connected. */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    if (this._synced) return;
    await new Promise<void>((resolve, reject) => {
      this.syncWaiters.push(resolve);
      signal?.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
    });
  }

  private setSynced(value: boolean): void {
    this._synced = value;
    if (value) for (const w of this.syncWaiters.splice(0)) w();
  }

  /**
   * The watch can no longer resume (410 Gone): the cache may miss any change since its version,
   * so it is stale, not synced, until the relist that follows has completed.
   */
  private expire(): void {
    this.resourceVersion = "";
    this.setSynced(false);
  }

  private emit(type: InformerEventType, object: T): void {
    const e = { type, object, atMs: this.opts.clock.now() };
    for (const h of this.handlers) {
      try {
        h(e);
      } catch (err) {
        // A subscriber's bug must not tear down the watch every cache event rides on.
        this.opts.onError?.(err, this.failures);
      }
    }
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        if (this.resourceVersion) await this.watch(signal, false);
        else await this.relist(signal);
      } catch (err) {
        if (signal.aborted) break;
        this.relisting = false;
        this.seen = undefined;
        this.setSynced(false);
        this.failures++;
        if (err instanceof HttpError && err.statusCode === 410) this.expire();
        this.opts.onError?.(err, this.failures);
      }
      if (this.failures > 0 && !signal.aborted) await this.backoff(signal);
    }
  }

  private async backoff(signal: AbortSignal): Promise<void> {
    const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (this.failures - 1));
    // Full jitter: many informers failing together must not come back together.
    const ms = ceiling / 2 + this.opts.rng() * (ceiling / 2);
    // Cut short when another cache of the view got through: the API server is back.
    const done = new AbortController();
    const onAbort = () => done.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const slept = this.opts.clock.sleep(ms, done.signal).then(
        () => false,
        () => false,
      );
      const woken = this.opts.retryNow?.wait(done.signal).then(() => true);
      const early = await Promise.race(woken ? [slept, woken] : [slept]);
      done.abort();
      if (early && !signal.aborted)
        await this.opts.clock
          .sleep(this.opts.rng() * WAKE_JITTER_MS, signal)
          .catch(() => undefined);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Makes the cache whole again: a streaming list that then goes on as the watch, or, where
   * the server refuses that, a paginated LIST and a watch from its version. Returns when that
   * watch ends.
   */
  private async relist(signal: AbortSignal): Promise<void> {
    try {
      await this.watch(signal, true);
      return;
    } catch (err) {
      // (Tried again at every relist: a server upgraded meanwhile streams the next one.)
      if (signal.aborted || !refusesStreamingList(err)) throw err;
    }
    await this.listPages(signal);
    await this.watch(signal, false);
  }

  private beginRelist(): void {
    this.relisting = true;
    // What the relist does not see again was deleted meanwhile; an empty cache forgets nothing.
    this.seen = this.count > 0 ? new Set() : undefined;
  }

  /** The relist is complete at `rv`: objects it did not see are gone. */
  private endRelist(rv: string): void {
    const seen = this.seen;
    if (seen) for (const old of this.list()) if (!seen.has(old)) this.remove(old);
    this.seen = undefined;
    this.relisting = false;
    this.resourceVersion = rv;
  }

  private async listPages(signal: AbortSignal): Promise<void> {
    this.beginRelist();
    let cont: string | undefined;
    let rv = "";
    do {
      const page = await this.source.list(
        { limit: this.opts.pageSize ?? PAGE_SIZE, continue: cont },
        signal,
      );
      for (const item of page.items ?? []) this.upsert(item as T);
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? "";
    } while (cont);
    this.endRelist(rv);
    this.relists.paged++;
  }

  private keep(obj: T): T {
    return this.opts.transform ? (this.opts.transform(obj) as T) : slim(obj);
  }

  private upsert(raw: T): void {
    const namespace = raw.metadata?.namespace ?? "";
    const name = raw.metadata?.name ?? "";
    const old = this.get(namespace, name);
    if (old && old.metadata?.resourceVersion === raw.metadata?.resourceVersion) {
      this.seen?.add(old);
      return;
    }
    const obj = this.keep(raw);
    this.store(namespace, name, obj, old === undefined);
    this.seen?.add(obj);
    this.emit(old ? "update" : "add", obj);
  }

  private store(namespace: string, name: string, obj: T, added: boolean): void {
    let names = this.objects.get(namespace);
    if (!names) this.objects.set(namespace, (names = new Map<string, T>()));
    names.set(name, obj);
    if (added) this.count++;
  }

  /** Drops the cached object at `obj`'s namespace and name. */
  private forget(obj: KubernetesObject): void {
    const namespace = obj.metadata?.namespace ?? "";
    const names = this.objects.get(namespace);
    if (!names?.delete(obj.metadata?.name ?? "")) return;
    this.count--;
    if (names.size === 0) this.objects.delete(namespace);
  }

  private remove(obj: T): void {
    this.forget(obj);
    this.emit("delete", obj);
  }

  /** One watch event; returns the failure an ERROR event reports (the stream ends after it). */
  private onWatchEvent(type: string, obj: T): HttpError | undefined {
    if (type === "ADDED" || type === "MODIFIED") this.upsert(obj);
    else if (type === "DELETED") this.remove(obj);
    else if (type === "BOOKMARK") return void this.bookmark(obj);
    else if (type === "ERROR") {
      const err = statusError(obj);
      // Stale from this moment, not from when the server gets round to closing the stream.
      if (err.statusCode === 410) this.expire();
      return err;
    } else return undefined;
    // During a streaming list objects come in no order of version: only its bookmark tells
    // where a watch could resume.
    const rv = obj.metadata?.resourceVersion;
    if (rv && !this.relisting) this.resourceVersion = rv;
    return undefined;
  }

  private bookmark(obj: T): void {
    const rv = obj.metadata?.resourceVersion ?? "";
    if (!this.relisting) {
      if (rv) this.resourceVersion = rv;
      return;
    }
    if (obj.metadata?.annotations?.[INITIAL_EVENTS_END] !== "true") return;
    this.endRelist(rv);
    this.relists.streamed++;
    this.connected();
  }

  /** The watch is open on a complete list: synced, and other caches may stop backing off. */
  private connected(): void {
    if (this.connections++ > 0) this.reconnects++;
    if (this.failures > 0) this.opts.retryNow?.recovered();
    this.failures = 0;
    this.setSynced(true);
  }

  /**
   * One watch connection, from the current version, or (`initial`) a streaming list that fills
   * the cache first. Resolves when it ends normally, rejects on an error.
   */
  private async watch(signal: AbortSignal, initial: boolean): Promise<void> {
    const timeoutSeconds = 300 + Math.floor(this.opts.rng() * 300);
    const clock = this.opts.clock;
    const startedAt = clock.now();
    let lastAt = startedAt;
    let failure: HttpError | undefined;
    const conn = new AbortController();
    const onAbort = () => conn.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    // The server closes the watch after timeoutSeconds; a connection that silently stopped
    // carrying bytes is given up a minute after that (bookmarks arrive about once a minute).
    const idle = { timedOut: false };
    void this.watchIdle(conn, idle, (timeoutSeconds + 60) * 1000, () => lastAt);
    if (initial) this.beginRelist();
    try {
      await this.source.watch(
        {
          resourceVersion: initial ? "" : this.resourceVersion,
          sendInitialEvents: initial,
          timeoutSeconds,
        },
        {
          onOpen: () => {
            if (!initial) this.connected();
          },
          onEvent: (type, obj) => {
            lastAt = clock.now();
            failure ??= this.onWatchEvent(type, obj as T);
          },
        },
        conn.signal,
      );
    } catch (err) {
      if (signal.aborted) return;
      if (!idle.timedOut) throw err;
    } finally {
      conn.abort();
      signal.removeEventListener("abort", onAbort);
    }
    if (signal.aborted) return;
    if (failure) throw failure;
    if (this.relisting) throw new Error("the watch ended before its initial events were complete");
    // A watch that ends at once with no error is suspicious (a proxy closing connections): back off.
    if (clock.now() - startedAt < 1000) this.failures++;
  }

  /** Aborts `conn` once nothing has arrived on it for `idleMs`, and says so in `idle`. */
  private async watchIdle(
    conn: AbortController,
    idle: { timedOut: boolean },
    idleMs: number,
    lastAt: () => number,
  ): Promise<void> {
    const clock = this.opts.clock;
    while (!conn.signal.aborted) {
      const wait = lastAt() + idleMs - clock.now();
      if (wait <= 0) {
        idle.timedOut = true;
        conn.abort();
        return;
      }
      await clock.sleep(wait, conn.signal).catch(() => undefined);
    }
  }
}
