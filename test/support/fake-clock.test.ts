import { describe, expect, it } from "vitest";
import { FAKE_EPOCH_MS, FakeClock } from "./fake-clock.js";

describe("FakeClock", () => {
  it("starts at a fixed time and moves only when told", async () => {
    const clock = new FakeClock();
    expect(clock.now()).toBe(FAKE_EPOCH_MS);
    await clock.advance(1500);
    expect(clock.now()).toBe(FAKE_EPOCH_MS + 1500);
    await clock.advanceTo(FAKE_EPOCH_MS + 2000);
    expect(clock.now()).toBe(FAKE_EPOCH_MS + 2000);
    await expect(clock.advanceTo(0)).rejects.toThrow(RangeError);
  });

  it("wakes sleepers in time order, each at its own time, and runs what they set off", async () => {
    const clock = new FakeClock(0);
    const woke: string[] = [];
    const at = (name: string) => () => woke.push(`${name}@${clock.now()}`);
    void clock.sleep(300).then(at("c"));
    void clock.sleep(100).then(at("a"));
    void clock.sleep(100).then(async () => {
      at("b")();
      await clock.sleep(50); // set off by a timer: due at 150, before c
      at("b2")();
    });
    void clock.sleep(400).then(at("late"));
    await clock.advance(350);
    expect(woke).toEqual(["a@100", "b@100", "b2@150", "c@300"]);
    expect(clock.now()).toBe(350);
    expect(clock.pending).toBe(1);
  });

  it("rejects with an AbortError when the signal aborts, and at once when already aborted", async () => {
    const clock = new FakeClock(0);
    const ctl = new AbortController();
    const slept = clock.sleep(1000, ctl.signal);
    ctl.abort();
    await expect(slept).rejects.toMatchObject({ name: "AbortError" });
    expect(clock.pending).toBe(0);
    await expect(clock.sleep(1, ctl.signal)).rejects.toMatchObject({ name: "AbortError" });
  });
});
