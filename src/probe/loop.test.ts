import { createServer } from "node:http";
import type { Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { FAKE_EPOCH_MS, FakeClock } from "../../test/support/fake-clock.js";
import { systemClock } from "../clock.js";
import { Secret } from "../config/env.js";
import type { HttpProbeSpec, ProbeSpec, SteadyState } from "../config/steady-state.js";
import { ProbeLoop } from "./loop.js";
import type { CheckRound } from "./loop.js";
import { runProbe } from "./run.js";
import type { ProbeFetch } from "./run.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A loopback HTTP server answering with `handler`; resolves with its base URL. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const addr = s.address();
  if (typeof addr !== "object" || !addr) throw new Error("no address");
  return `http://127.0.0.1:${addr.port}`;
}

const http = (
  url: string,
  over: Partial<Omit<HttpProbeSpec, "headers">> & { headers?: Record<string, string> } = {},
): ProbeSpec => ({
  name: "web",
  http: {
    url,
    shownUrl: url,
    method: "GET",
    expectStatus: [{ min: 200, max: 399 }],
    bodyContains: "",
    timeoutMs: 1000,
    ...over,
    headers: new Secret(over.headers ?? {}),
  },
});

describe("runProbe against a real loopback server", () => {
  it("passes, fails on status and body, and sends the configured headers", async () => {
    const seen: (string | undefined)[] = [];
    const url = await serve((req, res) => {
      seen.push(req.headers.authorization);
      if (req.url === "/down") res.writeHead(503).end("down");
      else res.writeHead(200).end('{"db":"ok"}');
    });
    const deps = { clock: systemClock };
    expect(
      await runProbe(http(`${url}/`, { headers: { Authorization: "Bearer t" } }), deps),
    ).toEqual({ result: "pass" });
    expect(await runProbe(http(`${url}/down`), deps)).toEqual({
      result: "fail",
      reason: "status 503",
    });
    expect(await runProbe(http(`${url}/`, { bodyContains: '"db":"down"' }), deps)).toMatchObject({
      result: "fail",
    });
    expect(seen[0]).toBe("Bearer t");
  });

  it("a server that never answers is an error after the probe's timeout", async () => {
    const url = await serve(() => undefined); // never answers
    const r = await runProbe(http(url, { timeoutMs: 200 }), { clock: systemClock });
    expect(r).toEqual({ result: "error", reason: "timed out after 200 ms" });
  });

  it("a refused connection is an error naming why", async () => {
    const url = await serve((_q, res) => res.end());
    await new Promise((r) => servers.pop()?.close(r));
    const r = await runProbe(http(url), { clock: systemClock });
    expect(r).toEqual({ result: "error", reason: "ECONNREFUSED" });
  });

  it("asks Prometheus an instant query", async () => {
    let asked = "";
    const url = await serve((req, res) => {
      asked = req.url ?? "";
      res.writeHead(200).end(
        JSON.stringify({
          status: "success",
          data: { resultType: "vector", result: [{ metric: {}, value: [1, "0.2"] }] },
        }),
      );
    });
    const probe = {
      name: "errors",
      prometheus: {
        url,
        shownUrl: url,
        query: 'sum(rate(x{code=~"5.."}[1m]))',
        below: 0.5,
        above: undefined,
        timeoutMs: 1000,
      },
    };
    expect(await runProbe(probe, { clock: systemClock })).toEqual({ result: "pass" });
    expect(new URL(asked, url).searchParams.get("query")).toBe('sum(rate(x{code=~"5.."}[1m]))');
  });
});

describe("ProbeLoop", () => {
  const steady = (n: number): SteadyState => ({
    intervalMs: 2000,
    successThreshold: 2,
    before: true,
    probes: Array.from({ length: n }, (_, i) => http(`http://probe-${i}.invalid/`, {})).map(
      (p, i) => ({ ...p, name: `p${i}` }),
    ),
    env: [],
  });

  it("runs each probe once per interval, one request per probe in flight, shared by all who follow", async () => {
    const clock = new FakeClock();
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    // Each answer takes 3 s, longer than the 2 s interval: the next round waits for it.
    const fetch: ProbeFetch = async () => {
      calls++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await clock.sleep(3000);
      inFlight--;
      return { status: 200, text: () => Promise.resolve("") };
    };
    const loop = new ProbeLoop(steady(1), { clock, fetch });
    const a: CheckRound[] = [];
    const b: CheckRound[] = [];
    const stopA = loop.follow((r) => a.push(r));
    const stopB = loop.follow((r) => b.push(r));
    await clock.advance(10_000);
    expect(maxInFlight).toBe(1);
    expect(calls).toBe(4); // at 0, 3, 6 and 9 s
    expect(a.map((r) => r.atMs - FAKE_EPOCH_MS)).toEqual([3000, 6000, 9000]);
    expect(b).toEqual(a);
    stopA();
    stopB();
    await clock.advance(10_000);
    expect(calls).toBe(4); // nobody follows: no probe traffic
  });

  it("a before-check joins the round under way instead of sending a second request", async () => {
    const clock = new FakeClock();
    let calls = 0;
    const fetch: ProbeFetch = async () => {
      calls++;
      await clock.sleep(500);
      return { status: 200, text: () => Promise.resolve("") };
    };
    const loop = new ProbeLoop(steady(2), { clock, fetch });
    const first = loop.checkOnce();
    const second = loop.checkOnce();
    await clock.advance(600);
    expect(await first).toBe(await second);
    expect(calls).toBe(2); // one per probe
  });
});
