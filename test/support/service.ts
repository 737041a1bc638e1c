// A stand-in for the service a workload serves, on loopback: it answers 200 while every replica
// of a real Deployment on the local cluster is Ready and 503 otherwise, and can stay broken for a
// while after the pods are back, as an app that does not reconnect to its database would. It
// keeps its own record of when it was down, to check the monkey's disruption figure against.
import { createServer } from "node:http";
import type { Server } from "node:http";
import * as k8s from "@kubernetes/client-node";
import type { Kube } from "./kube.js";
import { preciseNow } from "./kube.js";

export interface Outage {
  readonly fromMs: number;
  /** undefined while still down. */
  toMs?: number;
}

export class FollowingService {
  readonly outages: Outage[] = [];
  private server: Server | undefined;
  private abort: AbortController | undefined;
  private podsWhole = false;
  private healUntilMs = 0;
  private healTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  url = "";

  constructor(
    private readonly kube: Kube,
    private readonly namespace: string,
    private readonly deployment: string,
    /** After the replicas are all Ready again, keep answering 503 this long. */
    private readonly staysBrokenMs = 0,
  ) {}

  get up(): boolean {
    return this.podsWhole && preciseNow() >= this.healUntilMs;
  }

  /** Follows the Deployment; a watch that ends (client-node's 30 s idle limit) starts again. */
  private async follow(): Promise<void> {
    if (this.stopped) return;
    const watch = new k8s.Watch(this.kube.kc);
    // A quiet Deployment sends nothing for minutes: that is no reason to stop following it.
    (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = 3_600_000;
    this.abort = await watch.watch(
      `/apis/apps/v1/namespaces/${this.namespace}/deployments`,
      { fieldSelector: `metadata.name=${this.deployment}` },
      (_type: string, d: k8s.V1Deployment) => this.onDeployment(d),
      () => void this.follow(),
    );
  }

  async start(): Promise<void> {
    await this.follow();
    this.server = createServer((_req, res) => {
      res
        .writeHead(this.up ? 200 : 503, { "content-type": "text/plain" })
        .end(this.up ? "ok\n" : "down\n");
    });
    await new Promise<void>((r) => this.server?.listen(0, "127.0.0.1", r));
    const addr = this.server.address();
    if (typeof addr !== "object" || !addr) throw new Error("no address");
    this.url = `http://127.0.0.1:${addr.port}/healthz`;
  }

  private onDeployment(d: k8s.V1Deployment): void {
    const wanted = d.spec?.replicas ?? 1;
    const whole =
      (d.status?.readyReplicas ?? 0) >= wanted && (d.status?.updatedReplicas ?? 0) >= wanted;
    // Back after an outage: the app itself takes staysBrokenMs longer to come back.
    if (whole && !this.podsWhole && this.outages.length > 0) {
      this.healUntilMs = preciseNow() + this.staysBrokenMs;
      clearTimeout(this.healTimer);
      this.healTimer = setTimeout(() => this.mark(), this.staysBrokenMs);
    }
    this.podsWhole = whole;
    this.mark();
  }

  /** Opens an outage when it went down, closes it when it came back up. */
  private mark(): void {
    const last = this.outages[this.outages.length - 1];
    const open = last !== undefined && last.toMs === undefined;
    if (!this.up && !open) this.outages.push({ fromMs: preciseNow() });
    else if (this.up && open) last.toMs = preciseNow();
  }

  /** Milliseconds down within [fromMs, toMs]. */
  downMs(fromMs: number, toMs: number): number {
    return this.outages.reduce((sum, o) => {
      const a = Math.max(o.fromMs, fromMs);
      const b = Math.min(o.toMs ?? toMs, toMs);
      return sum + Math.max(0, b - a);
    }, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.healTimer);
    this.abort?.abort();
    await new Promise((r) => (this.server ? this.server.close(r) : r(undefined)));
  }
}
