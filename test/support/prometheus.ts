// A real Prometheus on loopback for the tests (the Go-built 3.x the cluster scripts put on PATH),
// scraping what the test names, and a metrics endpoint whose value the test sets.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./monkey.js";

export interface RunningPrometheus {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts Prometheus scraping `targets` (host:port) every second; resolves once it is ready. */
export async function startPrometheus(targets: readonly string[]): Promise<RunningPrometheus> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "kcm-prom-"));
  writeFileSync(
    join(dir, "prometheus.yml"),
    JSON.stringify({
      global: { scrape_interval: "1s", evaluation_interval: "1s" },
      scrape_configs: [{ job_name: "e2e", static_configs: [{ targets }] }],
    }),
  );
  const proc: ChildProcess = spawn(
    "prometheus",
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    stop: async () => {
      proc.kill("SIGTERM");
      await new Promise((r) => proc.once("exit", r));
    },
  };
}

/** Serves `name value` on /metrics for Prometheus to scrape; `set` changes the value. */
export class Gauge {
  value = 0;
  private server: Server | undefined;
  address = "";
  constructor(private readonly name: string) {}
  async start(): Promise<void> {
    this.server = createServer((_req, res) =>
      res
        .writeHead(200, { "content-type": "text/plain; version=0.0.4" })
        .end(`# TYPE ${this.name} gauge\n${this.name} ${this.value}\n`),
    );
    await new Promise<void>((r) => this.server?.listen(0, "127.0.0.1", r));
    const addr = this.server.address();
    if (typeof addr !== "object" || !addr) throw new Error("no address");
    this.address = `127.0.0.1:${addr.port}`;
  }
  async stop(): Promise<void> {
    await new Promise((r) => (this.server ? this.server.close(r) : r(undefined)));
  }
}
