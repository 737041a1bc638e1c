// The watch cache's handling of what the API server sends, against a scripted ListWatch (the
// narrow interface it calls) and a fake clock: streaming lists and their bookmark, 410 Gone
// before and during them, the paginated fallback, and what is and is not a refusal. The same
// paths against the real API server: test/e2e/informer.test.ts.
import type { KubernetesObject } from "@kubernetes/client-node";
import { setImmediate as macrotask } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../test/support/fake-clock.js";
import { HttpError } from "./http.js";
import { INITIAL_EVENTS_END, Informer, refusesStreamingList } from "./informer.js";
import type {
  InformerEvent,
  ListPage,
  ListWatch,
  WatchCallbacks,
  WatchRequest,
} from "./informer.js";
import { RetryNow } from "./retry.js";

interface Watch {
  readonly req: WatchRequest;
  readonly on: WatchCallbacks;
  /** The server ends the stream normally. */
  readonly end: () => void;
  readonly ended: () => boolean;
}

interface ListCall {
  readonly page: { readonly limit: number; readonly continue?: string | undefined };
}

/** A ListWatch whose answers the test gives, one request at a time. */
class ScriptedApi implements ListWatch {
  readonly watches: Watch[] = [];
  readonly lists: ListCall[] = [];
  /** Refuses watches (after recording them) while set. */
  refuse: ((req: WatchRequest) => HttpError | undefined) | undefined;
  /** Pages the LIST answers, in order. */
  pages: ListPage[] = [];

  watch(req: WatchRequest, on: WatchCallbacks, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const refused = this.refuse?.(req);
      let done = false;
      this.watches.push({
        req,
        on,
        end: () => {
          done = true;
          resolve();
        },
        ended: () => done || signal.aborted,
      });
      if (refused) return reject(refused);
      signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
      on.onOpen();
    });
  }

  list(page: ListCall["page"]): Promise<ListPage> {
    this.lists.push({ page });
    const next = this.pages.shift();
    return next ? Promise.resolve(next) : Promise.reject(new HttpError(500, "no page scripted"));
  }

  get last(): Watch {
    const w = this.watches.at(-1);
    if (!w) throw new Error("no watch yet");
    return w;
  }
}

const obj = (name: string, rv: string): KubernetesObject => ({
  metadata: { name, namespace: "ns", resourceVersion: rv },
});
const bookmark = (rv: string, end = true): KubernetesObject => ({
  metadata: {
    resourceVersion: rv,
    ...(end ? { annotations: { [INITIAL_EVENTS_END]: "true" } } : {}),
  },
});
const gone = { kind: "Status", status: "Failure", reason: "Expired", code: 410 };

const started: Informer<KubernetesObject>[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((i) => i.stop()));
});

interface SetUp {
  readonly rng?: () => number;
  readonly retryNow?: RetryNow;
  readonly pageSize?: number;
  readonly clock?: FakeClock;
}

function setUp(opts: SetUp = {}) {
  const api = new ScriptedApi();
  const clock = opts.clock ?? new FakeClock();
  const errors: unknown[] = [];
  const inf = new Informer<KubernetesObject>({
    source: api,
    clock,
    rng: opts.rng ?? (() => 0.5),
    onError: (err) => errors.push(err),
    ...(opts.retryNow ? { retryNow: opts.retryNow } : {}),
    ...(opts.pageSize ? { pageSize: opts.pageSize } : {}),
  });
  const events: InformerEvent<KubernetesObject>[] = [];
  inf.on((e) => events.push(e));
  started.push(inf);
  const seen = () => events.map((e) => `${e.type} ${e.object.metadata?.name ?? ""}`);
  return { api, clock, inf, events, errors, seen };
}

/** Lets every ready promise chain run (the fake API answers synchronously). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await macrotask();
}

describe("Informer: streaming lists", () => {
  it("fills from ADDED events and is synced at the initial-events-end bookmark, not before", async () => {
    const { api, clock, inf, events, seen } = setUp();
    inf.start();
    await settle();
    expect(api.last.req).toMatchObject({ resourceVersion: "", sendInitialEvents: true });
    api.last.on.onEvent("ADDED", obj("a", "5"));
    await clock.advance(3);
    api.last.on.onEvent("ADDED", obj("b", "3"));
    api.last.on.onEvent("BOOKMARK", bookmark("9", false)); // a progress bookmark: not the end
    expect(inf.synced).toBe(false);
    expect(inf.size).toBe(2);
    api.last.on.onEvent("BOOKMARK", bookmark("10"));
    expect(inf.synced).toBe(true);
    expect(inf.relists).toEqual({ streamed: 1, paged: 0 });
    expect(seen()).toEqual(["add a", "add b"]);
    expect(events[1]?.atMs).toBe((events[0]?.atMs ?? 0) + 3);
    // The same connection goes on as the watch.
    api.last.on.onEvent("MODIFIED", obj("a", "11"));
    api.last.on.onEvent("DELETED", obj("b", "12"));
    expect(seen().slice(2)).toEqual(["update a", "delete b"]);
    expect(inf.get("ns", "b")).toBeUndefined();
    expect(inf.size).toBe(1);
    api.last.on.onEvent("DELETED", obj("gone-already", "12")); // not cached: nothing to drop
    expect(inf.size).toBe(1);
    api.last.on.onEvent("BOOKMARK", bookmark("13", false));
    await clock.advance(60_000);
    api.last.end(); // the server's timeoutSeconds
    await settle();
    expect(api.watches).toHaveLength(2);
    expect(api.last.req).toMatchObject({ resourceVersion: "13", sendInitialEvents: false });
    expect(inf.synced).toBe(true);
    expect(api.lists).toHaveLength(0);
  });

  it("resumes at the bookmark's version, not at the versions of objects sent before it", async () => {
    const { api, clock, inf } = setUp();
    inf.start();
    await settle();
    api.last.on.onEvent("ADDED", obj("a", "50")); // newer than the bookmark: order is not kept
    api.last.on.onEvent("BOOKMARK", bookmark("40"));
    await clock.advance(2000);
    api.last.end();
    await settle();
    expect(api.last.req).toMatchObject({ resourceVersion: "40", sendInitialEvents: false });
  });

  it("after 410 Gone is unsynced until a new streaming list is whole, and drops what it no longer shows", async () => {
    const { api, clock, inf, seen } = setUp();
    inf.start();
    await settle();
    for (const [n, rv] of [
      ["a", "1"],
      ["b", "2"],
    ] as const)
      api.last.on.onEvent("ADDED", obj(n, rv));
    api.last.on.onEvent("BOOKMARK", bookmark("5"));
    expect(inf.synced).toBe(true);
    api.last.on.onEvent("ERROR", gone);
    expect(inf.synced).toBe(false); // at once, not when the server closes the stream
    api.last.end();
    await settle();
    expect(api.watches).toHaveLength(1); // backing off
    await clock.advance(500);
    expect(api.watches).toHaveLength(2);
    expect(api.last.req).toMatchObject({ resourceVersion: "", sendInitialEvents: true });
    api.last.on.onEvent("ADDED", obj("a", "1")); // unchanged: no event
    api.last.on.onEvent("ADDED", obj("c", "7"));
    expect(inf.synced).toBe(false);
    expect(inf.get("ns", "b")).toBeDefined(); // not known to be gone before the bookmark
    api.last.on.onEvent("BOOKMARK", bookmark("8"));
    expect(inf.synced).toBe(true);
    expect(seen()).toEqual(["add a", "add b", "add c", "delete b"]);
    expect([...inf.list()].map((o) => o.metadata?.name).sort()).toEqual(["a", "c"]);
  });

  it("a 410 in the middle of the initial events starts the streaming list over", async () => {
    const { api, clock, inf, seen, errors } = setUp();
    inf.start();
    await settle();
    api.last.on.onEvent("ADDED", obj("a", "1"));
    api.last.on.onEvent("ADDED", obj("b", "2"));
    api.last.on.onEvent("ERROR", gone);
    api.last.end();
    await settle();
    expect(inf.synced).toBe(false);
    expect((errors[0] as HttpError).statusCode).toBe(410);
    await clock.advance(500);
    expect(api.last.req).toMatchObject({ resourceVersion: "", sendInitialEvents: true });
    api.last.on.onEvent("ADDED", obj("a", "1"));
    api.last.on.onEvent("BOOKMARK", bookmark("9"));
    expect(inf.synced).toBe(true);
    expect(seen()).toEqual(["add a", "add b", "delete b"]);
  });

  it("a stream that ends before its bookmark is not a sync: it is retried with backoff", async () => {
    const { api, clock, inf, errors } = setUp();
    inf.start();
    await settle();
    api.last.on.onEvent("ADDED", obj("a", "1"));
    api.last.end();
    await settle();
    expect(inf.synced).toBe(false);
    expect(String(errors[0])).toMatch(/before its initial events were complete/);
    await clock.advance(500);
    expect(api.last.req).toMatchObject({ resourceVersion: "", sendInitialEvents: true });
  });

  it("gives up a watch on which nothing arrived for a minute past its timeout, and resumes it", async () => {
    const { api, clock, inf, errors } = setUp({ rng: () => 0 }); // timeoutSeconds 300
    inf.start();
    await settle();
    api.last.on.onEvent("BOOKMARK", bookmark("4"));
    await clock.advance(359_000);
    expect(api.watches).toHaveLength(1);
    await clock.advance(1000);
    expect(api.watches[0]?.ended()).toBe(true);
    expect(api.watches).toHaveLength(2);
    expect(api.last.req).toMatchObject({ resourceVersion: "4", sendInitialEvents: false });
    expect(errors).toEqual([]); // a silent connection is not an error; it is replaced
  });

  it("keeps its watch when a subscriber throws, and reports the throw", async () => {
    const { api, inf, errors } = setUp();
    inf.on(() => {
      throw new Error("subscriber bug");
    });
    inf.start();
    await settle();
    api.last.on.onEvent("ADDED", obj("a", "1"));
    api.last.on.onEvent("ADDED", obj("b", "2"));
    api.last.on.onEvent("BOOKMARK", bookmark("3"));
    expect(inf.synced).toBe(true);
    expect(inf.size).toBe(2);
    expect(errors.map(String)).toEqual(["Error: subscriber bug", "Error: subscriber bug"]);
  });
});

describe("Informer: when the server refuses streaming lists", () => {
  const refused = new HttpError(
    422,
    'WATCH /api/v1/pods: 422 The ListOptions "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled',
  );

  it("lists in bounded pages, then watches from the list's version", async () => {
    const { api, clock, inf, seen, errors } = setUp({ pageSize: 2 });
    api.refuse = (req) => (req.sendInitialEvents ? refused : undefined);
    api.pages = [
      {
        items: [obj("a", "1"), obj("b", "2")],
        metadata: { continue: "t1", resourceVersion: "20" },
      },
      { items: [obj("c", "3")], metadata: { resourceVersion: "20" } },
    ];
    inf.start();
    await settle();
    expect(api.lists.map((l) => l.page)).toEqual([
      { limit: 2, continue: undefined },
      { limit: 2, continue: "t1" },
    ]);
    expect(api.last.req).toMatchObject({ resourceVersion: "20", sendInitialEvents: false });
    expect(inf.synced).toBe(true);
    expect(inf.relists).toEqual({ streamed: 0, paged: 1 });
    expect(seen()).toEqual(["add a", "add b", "add c"]);
    expect(errors).toEqual([]); // a refusal is not a failure: no backoff, nothing reported
    // A 410 later relists the same way (streaming asked for first, every time).
    api.last.on.onEvent("ERROR", gone);
    api.last.end();
    api.pages = [{ items: [obj("a", "1")], metadata: { resourceVersion: "30" } }];
    await clock.advance(500);
    expect(api.watches.map((w) => w.req.sendInitialEvents)).toEqual([true, false, true, false]);
    expect(inf.synced).toBe(true);
    expect(seen().slice(3)).toEqual(["delete b", "delete c"]);
  });

  it("tells a refused parameter from a refused request", () => {
    expect(refusesStreamingList(refused)).toBe(true);
    expect(refusesStreamingList(new HttpError(400, "WATCH /x: 400 Bad Request"))).toBe(true);
    expect(
      refusesStreamingList(new HttpError(403, "WATCH /x: 403 sendInitialEvents not supported")),
    ).toBe(true);
    // RBAC: the verb is refused; a LIST would be too.
    expect(
      refusesStreamingList(
        new HttpError(
          403,
          'WATCH /api/v1/pods: 403 pods is forbidden: User "u" cannot watch resource "pods"',
        ),
      ),
    ).toBe(false);
    expect(refusesStreamingList(new HttpError(410, "WATCH /x: 410 Gone"))).toBe(false);
    expect(refusesStreamingList(new HttpError(503, "WATCH /x: 503 Service Unavailable"))).toBe(
      false,
    );
    expect(refusesStreamingList(new Error("ECONNRESET"))).toBe(false);
  });

  it("retries an RBAC 403 with backoff and never takes it for a refusal", async () => {
    const { api, clock, inf, errors } = setUp();
    api.refuse = () => new HttpError(403, 'WATCH /api/v1/pods: 403 pods is forbidden: User "u"');
    inf.start();
    await settle();
    expect(api.lists).toHaveLength(0);
    expect(errors).toHaveLength(1);
    await clock.advance(500);
    expect(api.watches).toHaveLength(2);
    expect(api.last.req.sendInitialEvents).toBe(true);
  });
});

describe("Informer: after an outage", () => {
  it("resumes its watch from its version without relisting while the version is valid", async () => {
    const { api, clock, inf } = setUp();
    inf.start();
    await settle();
    api.last.on.onEvent("BOOKMARK", bookmark("7"));
    api.refuse = () => new HttpError(503, "WATCH /x: 503 Service Unavailable");
    api.last.end();
    await settle();
    await clock.advance(200); // (the watch ended at once: backing off)
    await clock.advance(5000);
    expect(inf.synced).toBe(false);
    api.refuse = undefined;
    await clock.advance(30_000);
    expect(inf.synced).toBe(true);
    expect(api.watches.every((w, i) => i === 0 || w.req.resourceVersion === "7")).toBe(true);
    expect(api.lists).toHaveLength(0);
  });

  it("the first cache to get through wakes the others from their backoff", async () => {
    const retryNow = new RetryNow();
    const clock = new FakeClock();
    const fast = setUp({ rng: () => 0, retryNow, clock });
    const slow = setUp({ rng: () => 0.999, retryNow, clock });
    const down = () => new HttpError(503, "WATCH /x: 503 Service Unavailable");
    fast.api.refuse = down;
    slow.api.refuse = down;
    fast.inf.start();
    slow.inf.start();
    await settle();
    // Backoffs of 0.5, 1, 2, 4 s ceilings (the slow one sleeps the whole ceiling, the fast one
    // half): at 7.6 s each has failed five times, the slow one now sleeps until 15.5 s.
    await clock.advance(7600);
    expect([fast.api.watches.length, slow.api.watches.length]).toEqual([5, 5]);
    fast.api.refuse = undefined;
    slow.api.refuse = undefined;
    await clock.advance(200); // the fast one's sixth try, at 7.75 s, gets through
    fast.api.last.on.onEvent("BOOKMARK", bookmark("3"));
    expect(fast.inf.synced).toBe(true);
    // Woken: it retries after its short wake-up jitter (≤ 1 s), not at the end of its backoff.
    await clock.advance(1000);
    expect(slow.api.watches).toHaveLength(6);
    expect(slow.api.last.req.sendInitialEvents).toBe(true);
  });
});
