// Stopping and restarting the local control plane's kube-apiserver, and compacting its etcd, for
// the fault tests. kwokctl's binary runtime starts each component as a plain process and records
// it in pids/NAME.pid. A restarted component takes the original's argv, working directory and
// environment, appends to the same log, and replaces the pid file, so `npm run cluster:down`
// still finds and stops it.
//
// kube-controller-manager and kube-scheduler exit by design when they cannot renew their leader
// Lease for 10 s (an outage longer than that kills them); in a real cluster the kubelet restarts
// them as static pods. Here nothing would, so start() and heal() play the kubelet's part.
import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type * as k8s from "@kubernetes/client-node";
import { HttpMethod, RequestContext } from "@kubernetes/client-node";
import { fetch } from "undici";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** NUL-separated /proc files (cmdline, environ) as a list. */
const procList = (pid: number, file: string): string[] =>
  readFileSync(`/proc/${pid}/${file}`, "utf8").split("\0").filter(Boolean);

/** Running and not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

/** One kwokctl-started process: how it was launched, so it can be launched again. */
class Component {
  private launch: { argv: string[]; cwd: string; env: Record<string, string> } | undefined;

  constructor(
    private readonly clusterDir: string,
    readonly name: string,
  ) {}

  private get pidFile(): string {
    return join(this.clusterDir, "pids", `${this.name}.pid`);
  }

  get pid(): number {
    return Number(readFileSync(this.pidFile, "utf8").trim());
  }

  get alive(): boolean {
    return existsSync(this.pidFile) && alive(this.pid);
  }

  /** The command line it runs (or ran) with. */
  argv(): string[] {
    return this.launch?.argv ?? procList(this.pid, "cmdline");
  }

  /** Records how the running process was started. */
  remember(): void {
    const pid = this.pid;
    const env = procList(pid, "environ").map((kv): [string, string] => {
      const i = kv.indexOf("=");
      return [kv.slice(0, i), kv.slice(i + 1)];
    });
    this.launch = {
      argv: procList(pid, "cmdline"),
      cwd: readlinkSync(`/proc/${pid}/cwd`),
      env: Object.fromEntries(env),
    };
  }

  async kill(): Promise<void> {
    const pid = this.pid;
    process.kill(pid, "SIGKILL");
    for (let i = 0; alive(pid); i++) {
      if (i > 200) throw new Error(`${this.name} ${pid} did not die`);
      await sleep(50);
    }
  }

  /** Starts it again exactly as remembered, detached (it outlives the test process). */
  respawn(): number {
    const launch = this.launch;
    if (!launch) throw new Error(`${this.name}: launch not remembered`);
    const [bin, ...args] = launch.argv;
    const log = openSync(join(this.clusterDir, "logs", `${this.name}.log`), "a");
    const child = spawn(bin ?? "", args, {
      cwd: launch.cwd,
      env: launch.env,
      detached: true,
      stdio: ["ignore", log, log],
    });
    closeSync(log);
    child.unref();
    if (child.pid === undefined) throw new Error(`${this.name} did not start`);
    writeFileSync(this.pidFile, String(child.pid));
    return child.pid;
  }
}

export class ApiServer {
  private readonly apiserver: Component;
  /** Components that exit when their leader Lease cannot be renewed. */
  private readonly electing: Component[];
  private down = false;

  constructor(private readonly kc: k8s.KubeConfig) {
    // The kubeconfig kwokctl writes points at its cluster directory's pki/ca.crt.
    const clusterDir = dirname(dirname(kc.getCurrentCluster()?.caFile ?? ""));
    this.apiserver = new Component(clusterDir, "kube-apiserver");
    this.electing = ["kube-controller-manager", "kube-scheduler"].map(
      (n) => new Component(clusterDir, n),
    );
    if (!this.apiserver.alive) throw new Error(`no running kube-apiserver in ${clusterDir}`);
  }

  /** True between stop() and a successful start(). */
  get stopped(): boolean {
    return this.down;
  }

  /** The etcd client URL the API server uses (its --etcd-servers flag). */
  etcdUrl(): string {
    const flag = this.apiserver.argv().find((a) => a.startsWith("--etcd-servers="));
    const url = flag?.slice("--etcd-servers=".length).split(",")[0];
    if (!url) throw new Error("kube-apiserver has no --etcd-servers flag");
    return url;
  }

  /** Kills the API server outright (SIGKILL: a crash, no graceful drain of watches). */
  async stop(): Promise<void> {
    for (const c of [this.apiserver, ...this.electing]) if (c.alive) c.remember();
    this.down = true;
    await this.apiserver.kill();
  }

  /**
   * Starts it again exactly as it ran and waits for /readyz, then restarts the components the
   * outage made exit. Resolves with the time the API server was ready again.
   */
  async start(timeoutMs = 90_000): Promise<number> {
    const pid = this.apiserver.respawn();
    const deadline = Date.now() + timeoutMs;
    while (!(await this.ready())) {
      if (Date.now() > deadline) throw new Error(`kube-apiserver not ready in ${timeoutMs} ms`);
      if (!alive(pid)) throw new Error("kube-apiserver exited at once; see its log");
      await sleep(100);
    }
    const readyAt = Date.now();
    this.down = false;
    this.heal();
    return readyAt;
  }

  /** Restarts any component that exited on a lost Lease (the kubelet's job in a real cluster). */
  heal(): string[] {
    const revived = this.electing.filter((c) => !c.alive);
    for (const c of revived) c.respawn();
    return revived.map((c) => c.name);
  }

  /** GET /readyz as the admin user: 200 means it serves requests again. */
  async ready(): Promise<boolean> {
    const server = this.kc.getCurrentCluster()?.server ?? "";
    const ctx = new RequestContext(`${server}/readyz`, HttpMethod.GET);
    await this.kc.applySecurityAuthentication(ctx);
    try {
      const res = await fetch(`${server}/readyz`, {
        headers: ctx.getHeaders(),
        dispatcher: ctx.getDispatcher() as never,
        signal: AbortSignal.timeout(2000),
      });
      await res.text();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** Compacts etcd up to its current revision, so every older resourceVersion is gone. */
  async compactEtcd(): Promise<number> {
    const etcd = this.etcdUrl();
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${etcd}${path}`, { method: "POST", body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as { header?: { revision?: string } };
    };
    // Any key will do: every answer's header carries the store's current revision.
    const range = await post("/v3/kv/range", { key: Buffer.from("compact").toString("base64") });
    const revision = range.header?.revision;
    if (!revision) throw new Error("etcd did not report its revision");
    await post("/v3/kv/compaction", { revision, physical: true });
    return Number(revision);
  }
}
