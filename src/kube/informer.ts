// A list-then-watch cache of one resource path with the properties the monkey needs and
// client-node's ListWatch lacks: an explicit `synced` state (never kill from a stale cache),
// restart with jittered exponential backoff after *any* error (ListWatch stops on errors other
// than 410), bookmarks (fewer 410s after compaction), paginated lists, and the arrival time of
// every event, which recovery measurement is built on.
import { Watch } from "@kubernetes/client-node";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import type { Clock } from "../clock.js";
import { apiUrl, getJson, HttpError } from "./http.js";
import type { RetryNow } from "./retry.js";

export type InformerEventType = "add" | "update" | "delete";
export interface InformerEvent<T> {
  readonly type: InformerEventType;
  readonly object: T;
  /** Clock time the event reached this process. */
  readonly atMs: number;
}

export interface InformerOptions {
  readonly kc: KubeConfig;
  readonly path: string;
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  readonly clock: Clock;
  /** For backoff jitter and watch timeouts; not a round's seeded generator. */
  readonly rng: () => number;
  readonly onError?: (err: unknown, attempt: number) => void;
  readonly pageSize?: number;
  /** Shared by a view's caches: one getting through again wakes the others from backoff. */
  readonly retryNow?: RetryNow;
  /** What the cache keeps of each object (default: all but managedFields). */
  readonly transform?: (obj: KubernetesObject) => KubernetesObject;
}

/** managedFields are often half an object's size and the monkey never reads them. */
function slim<T extends KubernetesObject>(obj: T): T {
  if (obj.metadata?.managedFields) delete obj.metadata.managedFields;
  return obj;
}

const BASE_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
/** Caches woken together spread their retries over this long. */
const WAKE_JITTER_MS = 1000;

interface ListResponse<T> {
  items?: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

const keyOf = (o: KubernetesObject): string =>
  `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

export class Informer<T extends KubernetesObject> {
  private readonly objects = new Map<string, T>();
  private readonly handlers: ((e: InformerEvent<T>) => void)[] = [];
  private readonly syncWaiters: (() => void)[] = [];
  private resourceVersion = "";
  private abort = new AbortController();
  private running: Promise<void> | undefined;
  private failures = 0;
  private _synced = false;
  /** Watch (re)connections after the first, for the benchmark and fault tests. */
  reconnects = 0;
  private connections = 0;

  constructor(private readonly opts: InformerOptions) {}

  get synced(): boolean {
    return this._synced;
  }

  on(handler: (e: InformerEvent<T>) => void): void {
    this.handlers.push(handler);
  }

  get(namespace: string, name: string): T | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }

  list(): IterableIterator<T> {
    return this.objects.values();
  }

  get size(): number {
    return this.objects.size;
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
    for (const h of this.handlers) h(e);
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        if (!this.resourceVersion) await this.relist(signal);
        await this.watchOnce(signal);
      } catch (err) {
        if (signal.aborted) break;
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

  private async relist(signal: AbortSignal): Promise<void> {
    const seen = new Map<string, T>();
    let cont: string | undefined;
    let rv = "";
    do {
      const page = await this.listPage(cont, signal);
      for (const item of page.items ?? []) seen.set(keyOf(item), this.keep(item));
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? "";
    } while (cont);
    for (const [key, old] of this.objects)
      if (!seen.has(key)) {
        this.objects.delete(key);
        this.emit("delete", old);
      }
    for (const [key, obj] of seen) this.upsert(key, obj);
    this.resourceVersion = rv;
  }

  private async listPage(cont: string | undefined, signal: AbortSignal): Promise<ListResponse<T>> {
    const url = apiUrl(this.opts.kc, this.opts.path, {
      labelSelector: this.opts.labelSelector,
      fieldSelector: this.opts.fieldSelector,
      limit: String(this.opts.pageSize ?? 500),
      continue: cont,
    });
    return (await getJson(this.opts.kc, url, signal)) as ListResponse<T>;
  }

  private keep(obj: T): T {
    return this.opts.transform ? (this.opts.transform(obj) as T) : slim(obj);
  }

  private upsert(key: string, obj: T): void {
    const old = this.objects.get(key);
    if (old?.metadata?.resourceVersion === obj.metadata?.resourceVersion && old) return;
    this.objects.set(key, obj);
    this.emit(old ? "update" : "add", obj);
  }

  private onWatchEvent(type: string, obj: T & { code?: number }): void {
    if (type === "ADDED" || type === "MODIFIED") this.upsert(keyOf(obj), this.keep(obj));
    else if (type === "DELETED") {
      this.objects.delete(keyOf(obj));
      this.emit("delete", obj);
    } else if (type === "ERROR") {
      // A Status object: 410 Gone means our resourceVersion was compacted away.
      if (obj.code === 410) this.expire();
      return;
    }
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
  }

  /** The watch is open on a complete list: synced, and other caches may stop backing off. */
  private connected(): void {
    if (this.connections++ > 0) this.reconnects++;
    if (this.failures > 0) this.opts.retryNow?.recovered();
    this.failures = 0;
    this.setSynced(true);
  }

  /** One watch connection; resolves when it ends normally, rejects on an error. */
  private async watchOnce(signal: AbortSignal): Promise<void> {
    const watch = new Watch(this.opts.kc);
    const timeoutSeconds = 300 + Math.floor(this.opts.rng() * 300);
    // The server closes the watch after timeoutSeconds; the client's inactivity timer must not
    // fire first on a quiet resource (bookmarks arrive about once a minute).
    // (The field is private in the typings but is the documented knob.)
    (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs =
      (timeoutSeconds + 60) * 1000;
    const startedAt = this.opts.clock.now();
    let done!: (err: unknown) => void;
    const ended = new Promise<unknown>((resolve) => (done = resolve));
    const controller = await watch.watch(
      this.opts.path,
      {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
      },
      (type: string, obj: T & { code?: number }) => this.onWatchEvent(type, obj),
      done,
    );
    const onAbort = () => controller.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    if (this.resourceVersion && !controller.signal.aborted) this.connected();
    const err = await ended;
    signal.removeEventListener("abort", onAbort);
    if (signal.aborted) return;
    const statusCode = (err as { statusCode?: number } | null)?.statusCode;
    if (statusCode === 410) this.expire();
    if (err && (err as Error).name !== "TimeoutError")
      throw statusCode
        ? new HttpError(statusCode, (err as Error).message)
        : err instanceof Error
          ? err
          : new Error(JSON.stringify(err));
    // A watch that ends at once with no error is suspicious (a proxy closing connections): back off.
    if (this.opts.clock.now() - startedAt < 1000) this.failures++;
  }
}
