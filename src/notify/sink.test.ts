import seedrandom from "seedrandom";
import { afterEach, describe, expect, it } from "vitest";
import { FakeClock, FAKE_EPOCH_MS } from "../../test/support/fake-clock.js";
import { captureLog, SAMPLES, sinkFor, startReceiver, until } from "../../test/fixtures/notify.js";
import type { Receiver } from "../../test/fixtures/notify.js";
import { retryAfterMs, SinkQueue } from "./sink.js";
import { LOG } from "../observe/messages.js";

describe("retryAfterMs", () => {
  const now = Date.parse("2026-12-02T01:02:03Z");
  it.each([
    ["1", 1000],
    [" 30 ", 30_000],
    ["0", 0],
    ["Wed, 02 Dec 2026 01:02:13 GMT", 10_000],
    ["Wed, 02 Dec 2026 01:00:00 GMT", 0],
    ["soon", undefined],
    ["-1", undefined],
    ["", undefined],
    [null, undefined],
  ])("%j → %j", (value, expected) => {
    expect(retryAfterMs(value, now)).toBe(expected);
  });
});

describe("SinkQueue", () => {
  let r: Receiver | undefined;
  afterEach(async () => {
    await r?.close();
  });

  it("survives a counter that throws: no unhandled rejection, the next one goes out", async () => {
    r = await startReceiver();
    const logs = captureLog();
    let calls = 0;
    const queue = new SinkQueue(sinkFor({ url: r.url }), {
      clock: new FakeClock(FAKE_EPOCH_MS),
      rng: seedrandom("x"),
      log: logs.log,
      count: () => {
        if (calls++ === 0) throw new Error("metrics broke");
      },
    });
    const item = { notification: SAMPLES.kill, body: "{}" };
    queue.enqueue(item);
    await until("stopped", () =>
      logs.lines.some((l) => l.msg === LOG.NOTIFICATION_DELIVERY_STOPPED),
    );
    queue.enqueue(item);
    await until("second counted", () => calls === 2);
    await queue.idle();
    expect(r.received).toHaveLength(2);
    queue.close();
  });
});
