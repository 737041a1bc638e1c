// A loopback HTTP receiver for notifications: records every request (time, path, body) and
// answers as the test scripts it — a status per request in turn, a Retry-After, or never.
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";

export interface Received {
  readonly atMs: number;
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: unknown;
}

/** How to answer one request: a status (and headers), or "hang" (never answer). */
export type Answer = { status: number; headers?: Record<string, string>; body?: string } | "hang";

export class Receiver {
  readonly received: Received[] = [];
  private server: Server | undefined;
  private readonly hanging = new Set<ServerResponse>();
  url = "";

  /** `answer(n, path)` decides the answer to the n-th request (0-based) on `path`. */
  constructor(
    private readonly answer: (n: number, path: string) => Answer = () => ({
      status: 200,
      body: "ok",
    }),
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const path = req.url ?? "/";
        const n = this.received.filter((r) => r.path === path).length;
        let body: unknown = Buffer.concat(chunks).toString("utf8");
        try {
          body = JSON.parse(body as string);
        } catch {
          // not JSON: kept as text
        }
        this.received.push({
          atMs: performance.timeOrigin + performance.now(),
          path,
          headers: req.headers,
          body,
        });
        const a = this.answer(n, path);
        if (a === "hang") {
          this.hanging.add(res);
          return;
        }
        res.writeHead(a.status, a.headers).end(a.body ?? "");
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, "127.0.0.1", r));
    const addr = this.server.address();
    if (typeof addr !== "object" || !addr) throw new Error("no address");
    this.url = `http://127.0.0.1:${addr.port}`;
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise((r) => (this.server ? this.server.close(r) : r(undefined)));
  }
}
