// For the notify tests: a real HTTP receiver on 127.0.0.1 (not a mocked module), sinks that point
// at it, sample notifications of every event, and a logger whose JSON lines the test can read.
// Excluded from the build (tsconfig.build.json).
import { createServer } from "node:http";
import type { IncomingHttpHeaders, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { setTimeout as realDelay } from "node:timers/promises";
import { Secret } from "../config/env.js";
import type { NotifyEvent, NotifySink } from "../config/types.js";
import { createLogger } from "../observe/logger.js";
import type { Logger } from "../observe/logger.js";
import type { NotificationResult } from "../observe/metrics.js";
import type { ChaosNotification } from "./event.js";

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** How the receiver answers its n-th request (0-based): a reply, or "hang" (never answers). */
export type Reply =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string }
  | "hang";

export interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** Hung requests whose connection the client closed. */
  readonly aborted: number;
  close(): Promise<void>;
}

export async function startReceiver(
  answer: (n: number, req: Received) => Reply = () => ({ status: 200, body: "ok" }),
): Promise<Receiver> {
  const received: Received[] = [];
  const state = { aborted: 0 };
  const server: Server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: Received = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      received.push(r);
      const reply = answer(received.length - 1, r);
      if (reply === "hang") {
        res.on("close", () => state.aborted++);
        return;
      }
      res.writeHead(reply.status, { "content-type": "text/plain", ...reply.headers });
      res.end(reply.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    get aborted() {
      return state.aborted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sinkFor(opts: {
  name?: string;
  type?: NotifySink["type"];
  url: string;
  headers?: Record<string, string>;
  events?: readonly NotifyEvent[];
  expanded?: boolean;
}): NotifySink {
  return {
    name: opts.name ?? "team",
    type: opts.type ?? "webhook",
    events: opts.events ?? ["kill", "recovered", "not_recovered", "round_failed"],
    env: [],
    endpoint: new Secret({
      url: opts.url,
      headers: opts.headers ?? {},
      expanded: opts.expanded ?? true,
    }),
  };
}

/** Counts by sink and result, as chaos_monkey_notifications_total would. */
export function counter(): {
  count: (sink: string, result: NotificationResult) => void;
  of: (sink: string, result: NotificationResult) => number;
} {
  const counts = new Map<string, number>();
  return {
    count: (sink, result) =>
      counts.set(`${sink}/${result}`, (counts.get(`${sink}/${result}`) ?? 0) + 1),
    of: (sink, result) => counts.get(`${sink}/${result}`) ?? 0,
  };
}

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** A real pino logger at debug level, its lines parsed. */
export function captureLog(): { log: Logger; readonly lines: LogLine[]; text: () => string } {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString("utf8"));
      done();
    },
  });
  return {
    log: createLogger({ level: "debug", format: "json", destination }),
    get lines() {
      return raw
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((s) => JSON.parse(s) as LogLine);
    },
    text: () => raw.join(""),
  };
}

/** Real time: waits (briefly polling) for what real I/O brings about. */
export async function until(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await realDelay(2);
  }
}

const BASE = {
  target: "web",
  round: "web-20261202T010203Z",
  seed: "5eed",
  dryRun: false,
  time: "2026-12-02T01:02:03.123Z",
} as const;

const POD = { kind: "Pod", namespace: "shop", name: "web-7d9c5b-x2x4q" } as const;

/** One notification of each event, with the figures a real round would carry. */
export const SAMPLES: Readonly<Record<NotifyEvent, ChaosNotification>> = {
  kill: {
    ...BASE,
    event: "kill",
    victims: [
      { ...POD, result: "killed" },
      { kind: "Pod", namespace: "shop", name: "web-7d9c5b-k8m2z", result: "killed" },
    ],
  },
  recovered: {
    ...BASE,
    event: "recovered",
    time: "2026-12-02T01:02:17.523Z",
    victims: [
      {
        ...POD,
        phases: { replaced: 0.4, ready: 6.1, recovered: 6.3, steady: 14.4 },
        disruptionSeconds: 4,
        objectiveSeconds: 60,
        outcome: "recovered",
      },
    ],
  },
  not_recovered: {
    ...BASE,
    event: "not_recovered",
    time: "2026-12-02T01:12:03.123Z",
    victims: [{ ...POD, phases: { replaced: 0.4 }, objectiveSeconds: 60, outcome: "timeout" }],
  },
  objective_missed: {
    ...BASE,
    event: "objective_missed",
    time: "2026-12-02T01:03:15.123Z",
    victims: [
      {
        ...POD,
        phases: { replaced: 0.4, ready: 70.2, recovered: 71.9 },
        objectiveSeconds: 60,
        outcome: "recovered",
      },
    ],
  },
  round_failed: {
    ...BASE,
    event: "round_failed",
    reason: "list pods: connect ECONNREFUSED 10.96.0.1:443",
  },
  skipped: { ...BASE, event: "skipped", reason: "blackout" },
};

export const dryRun = (n: ChaosNotification): ChaosNotification => ({
  ...n,
  dryRun: true,
  victims: n.victims?.map((v) => (v.result === undefined ? v : { ...v, result: "dry_run" })),
});
