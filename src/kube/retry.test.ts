import { describe, expect, it } from "vitest";
import { RetryNow } from "./retry.js";

const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 0));
  return done;
};

describe("RetryNow", () => {
  it("wakes every cache waiting when one recovers, and only those", async () => {
    const r = new RetryNow();
    const a = r.wait(new AbortController().signal);
    const b = r.wait(new AbortController().signal);
    expect(await settled(a)).toBe(false);
    r.recovered();
    expect(await settled(a)).toBe(true);
    expect(await settled(b)).toBe(true);
    const later = r.wait(new AbortController().signal);
    expect(await settled(later)).toBe(false); // an earlier recovery does not count
    expect(r.waiting).toBe(1);
  });

  it("forgets a waiter whose wait was aborted", async () => {
    const r = new RetryNow();
    const stop = new AbortController();
    const w = r.wait(stop.signal);
    stop.abort();
    expect(r.waiting).toBe(0);
    r.recovered();
    expect(await settled(w)).toBe(false);
    expect(await settled(r.wait(stop.signal))).toBe(false);
    expect(r.waiting).toBe(0);
  });
});
