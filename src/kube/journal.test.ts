import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { Journal, NotAllowed } from "./journal.js";
import type { JournalEntry, JournalStore, StoredJournal } from "./journal.js";

/** The ConfigMap as an API server keeps it: a version that moves on every write, 409 on a stale one. */
class FakeStore implements JournalStore {
  data: Record<string, string> | undefined;
  version = 0;
  writes = 0;
  read(): Promise<StoredJournal | undefined> {
    return Promise.resolve(
      this.data ? { data: { ...this.data }, resourceVersion: String(this.version) } : undefined,
    );
  }
  create(data: Record<string, string>): Promise<StoredJournal> {
    if (this.data) return Promise.reject(new ApiException(409, "AlreadyExists", {}, {}));
    return Promise.resolve(this.put(data));
  }
  replace(data: Record<string, string>, rv: string): Promise<StoredJournal> {
    if (rv !== String(this.version))
      return Promise.reject(new ApiException(409, "Conflict", {}, {}));
    return Promise.resolve(this.put(data));
  }
  private put(data: Record<string, string>): StoredJournal {
    this.writes++;
    this.data = { ...data };
    this.version++;
    return { data, resourceVersion: String(this.version) };
  }
}

const entry = (uid: string, over: Partial<JournalEntry> = {}): JournalEntry => ({
  uid,
  kind: "PersistentVolumeClaim",
  namespace: "shop",
  name: `data-${uid}`,
  round: "claims-20261202T100000Z",
  target: "claims",
  strip: ["kubernetes.io/pvc-protection"],
  atMs: 1000,
  ...over,
});
const allow = () => () => undefined;

describe("Journal", () => {
  it("records a round's tick and entries in one write, and refuses the same tick again", async () => {
    const store = new FakeStore();
    const j = new Journal(store, allow);
    expect(await j.recordRound("claims", 5000, [entry("a"), entry("b")])).toBe(true);
    expect(store.writes).toBe(1);
    expect(await j.recordRound("claims", 5000, [entry("c")])).toBe(false);
    expect(await j.recordRound("claims", 4000, [entry("c")])).toBe(false);
    expect(store.writes).toBe(1);
    const fresh = new Journal(store, allow);
    await fresh.load();
    expect(fresh.lastTick("claims")).toBe(5000);
    expect(
      fresh
        .list()
        .map((e) => e.uid)
        .sort(),
    ).toEqual(["a", "b"]);
  });

  it("a replica that lost a race re-reads and does not run the tick the other recorded", async () => {
    const store = new FakeStore();
    const a = new Journal(store, allow);
    const b = new Journal(store, allow);
    await a.load();
    await b.load();
    expect(await a.recordRound("web", 7000, [entry("a", { kind: "Pod", strip: [] })])).toBe(true);
    // b still holds the old version: its write conflicts, it re-reads and sees tick 7000 run.
    expect(await b.recordRound("web", 7000, [entry("b", { kind: "Pod", strip: [] })])).toBe(false);
    expect(b.has("b")).toBe(false);
    expect(await b.recordRound("web", 8000, [entry("b", { kind: "Pod", strip: [] })])).toBe(true);
    expect(Object.keys(store.data ?? {}).sort()).toEqual(["tick.web", "victim.a", "victim.b"]);
  });

  it("writes nothing without the gate, and keeps its state as it was", async () => {
    const store = new FakeStore();
    let leading = true;
    const j = new Journal(store, () => (leading ? () => undefined : undefined));
    await j.recordRound("claims", 1, [entry("a")]);
    leading = false;
    await expect(j.recordRound("claims", 2, [entry("b")])).rejects.toBeInstanceOf(NotAllowed);
    await expect(j.forget(["a"])).rejects.toBeInstanceOf(NotAllowed);
    expect(store.writes).toBe(1);
    expect(j.lastTick("claims")).toBe(1);
    expect(j.list().map((e) => e.uid)).toEqual(["a"]);
  });

  it("forgets entries, and writes nothing when there is nothing to forget", async () => {
    const store = new FakeStore();
    const j = new Journal(store, allow);
    await j.recordRound("claims", 1, [entry("a"), entry("b")]);
    await j.forget(["a", "zzz"]);
    await j.forget(["zzz"]);
    expect(store.writes).toBe(2);
    expect(j.list().map((e) => e.uid)).toEqual(["b"]);
  });

  it("ignores data it did not write in its own shape (never trusted blindly)", async () => {
    const store = new FakeStore();
    store.data = {
      "victim.x": "not json",
      "tick.web": "soon",
      "victim.y": JSON.stringify(entry("y")),
      other: "1",
    };
    const j = new Journal(store, allow);
    await j.load();
    expect(j.list().map((e) => e.uid)).toEqual(["y"]);
    expect(j.lastTick("web")).toBeUndefined();
  });

  it("runs writes one at a time: concurrent records of two targets both land", async () => {
    const store = new FakeStore();
    const j = new Journal(store, allow);
    await Promise.all([j.recordRound("a", 1, [entry("a")]), j.recordRound("b", 1, [entry("b")])]);
    const fresh = new Journal(store, allow);
    await fresh.load();
    expect([fresh.lastTick("a"), fresh.lastTick("b")]).toEqual([1, 1]);
    expect(fresh.list()).toHaveLength(2);
  });
});
