// A loopback HTTPS proxy in front of the API server that sees requests, not just bytes: it ends
// TLS with a throw-away self-signed certificate for 127.0.0.1 and forwards each request (method,
// path and query, headers with the client's Authorization, body) to the real API server over
// TLS, streaming both ways so watches flow event by event. Rules pick requests by method and
// path: `delay` answers them late (the API server has already acted: a slow answer), `hold`
// keeps them from the API server until released (a stalled renewal). Everything else passes at
// once. TcpProxy (proxy.ts) can only stall all of a client's traffic; this stalls one kind.
//
// Bearer tokens pass through; a client certificate cannot (TLS ends here), so identities must
// authenticate with tokens (ServiceAccounts do). Upgrades (exec, port-forward) are not proxied.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Agent, createServer, request } from "node:https";
import type { Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline, Transform } from "node:stream";
import type { TransformCallback } from "node:stream";
import { promisify } from "node:util";

/** What a rule sees of a request: `path` without the query, `query` without the "?". */
export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
}

export type RequestMatch = (req: ProxiedRequest) => boolean;

/** One request through the proxy; fields fill in as it goes (times in epoch ms, sub-ms). */
export interface SeenRequest extends ProxiedRequest {
  /** When the proxy received the request's headers. */
  readonly atMs: number;
  /** Set when a delay rule matched: how long the answer is held back after the upstream's. */
  delayedMs?: number;
  /** Set when a hold rule matched: the request waited in the proxy before going upstream. */
  held?: boolean;
  /** When a held request was let go (release/clear). */
  releasedAtMs?: number;
  /** When the request was sent to the API server (never, for a held one that was aborted). */
  forwardedAtMs?: number;
  /** When the API server's answer (status and headers) reached the proxy. */
  answeredAtMs?: number;
  /** When the proxy sent that status and those headers on to the client. */
  respondedAtMs?: number;
  /** When the whole answer went to the client. */
  finishedAtMs?: number;
  status?: number;
  /** The client went away before its answer was complete. */
  aborted?: boolean;
  /** The upstream request or response failed. */
  error?: string;
  /** Set when an answer rule matched: the proxy answered itself, nothing went upstream. */
  answeredByProxy?: boolean;
}

export interface HttpProxyOptions {
  /** The API server, https://127.0.0.1:PORT. */
  readonly upstream: string;
  /** The CA that signed the API server's certificate (PEM). */
  readonly ca?: Buffer | string;
  /** Verify the API server's certificate (default true). */
  readonly rejectUnauthorized?: boolean;
}

/**
 * Proxy options for a kubeconfig cluster entry (a client-node `Cluster`: server, CA as data or
 * file, skip-verify), e.g. `HttpProxy.start(upstreamOf(kube.kc.getCurrentCluster()!))`.
 */
export function upstreamOf(cluster: {
  readonly server: string;
  readonly caData?: string | undefined;
  readonly caFile?: string | undefined;
  readonly skipTLSVerify?: boolean | undefined;
}): HttpProxyOptions {
  const ca = cluster.caData
    ? Buffer.from(cluster.caData, "base64")
    : cluster.caFile
      ? readFileSync(cluster.caFile)
      : undefined;
  return {
    upstream: cluster.server,
    ...(ca ? { ca } : {}),
    ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
  };
}

/** Any request on coordination.k8s.io/v1 Leases (get, create, update, ...), in any namespace. */
export const isLeaseRequest: RequestMatch = ({ path }) =>
  /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/[^/]+\/leases(\/[^/]+)?\/?$/.test(path);

/** Requests on one Lease by its path (…/leases/NAME): its create, a POST to …/leases, is not. */
export const leaseRequest =
  (name: string, methods?: readonly string[]): RequestMatch =>
  (req) =>
    isLeaseRequest(req) &&
    req.path.replace(/\/$/, "").endsWith(`/leases/${name}`) &&
    (methods === undefined || methods.includes(req.method));

type Rule =
  | { readonly kind: "delay"; readonly match: RequestMatch; readonly ms: number }
  | { readonly kind: "hold"; readonly match: RequestMatch }
  | {
      readonly kind: "answer";
      readonly match: RequestMatch;
      readonly status: number;
      readonly body: string;
    };

interface Parked {
  readonly entry: SeenRequest;
  readonly go: () => void;
}

const preciseNow = (): number => performance.timeOrigin + performance.now();

/** Hop-by-hop headers (RFC 9110 §7.6.1) stay on their own connection. */
const HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** rawHeaders without hop-by-hop ones (and those the Connection header names) or `drop`. */
function endToEnd(raw: readonly string[], drop: readonly string[] = []): string[] {
  const skip = new Set([...HOP, ...drop]);
  for (let i = 0; i < raw.length; i += 2)
    if (raw[i]?.toLowerCase() === "connection")
      for (const t of (raw[i + 1] ?? "").split(",")) skip.add(t.trim().toLowerCase());
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const [k, v] = [raw[i] ?? "", raw[i + 1] ?? ""];
    if (!skip.has(k.toLowerCase())) out.push(k, v);
  }
  return out;
}

async function selfSignedCert(): Promise<{ key: string; cert: string }> {
  const dir = mkdtempSync(join(tmpdir(), "kcm-http-proxy-"));
  try {
    const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
    // A self-signed CA certificate is its own trust anchor: Go (kubectl) and Node accept it.
    await promisify(execFile)("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "2",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
    ]);
    return { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Passes an answer's bytes on, or keeps them while frozen (a stream that goes quiet). */
class Valve extends Transform {
  private frozen = false;
  private held: Buffer[] = [];
  freeze(): void {
    this.frozen = true;
  }
  thaw(): void {
    this.frozen = false;
    for (const chunk of this.held.splice(0)) this.push(chunk);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.frozen) this.held.push(chunk);
    else this.push(chunk);
    cb();
  }
}

export class HttpProxy {
  /** Answers streaming now (watches), with the request each answers. */
  private readonly valves = new Map<Valve, ProxiedRequest>();
  private freezes: RequestMatch[] = [];
  /** Every request received, in order of arrival. */
  readonly seen: SeenRequest[] = [];
  private rules: Rule[] = [];
  private readonly parked = new Set<Parked>();
  /** Answers waiting out a delay: firing one sends it now. */
  private readonly delayed = new Map<NodeJS.Timeout, () => void>();
  /** Requests sent upstream whose answers have not finished. */
  private readonly inFlight = new Set<{ destroy(): void }>();
  private readonly waiters = new Set<() => void>();
  private readonly server: Server;
  private readonly agent: Agent;
  private readonly target: URL;
  private port = 0;

  private constructor(
    opts: HttpProxyOptions,
    /** The proxy's own certificate (PEM): the CA a client must trust. */
    readonly caPem: string,
    key: string,
  ) {
    this.target = new URL(opts.upstream);
    this.agent = new Agent({
      keepAlive: true,
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
      rejectUnauthorized: opts.rejectUnauthorized ?? true,
    });
    this.server = createServer({ key, cert: caPem }, (req, res) => this.handle(req, res));
    // Watches stay open for minutes and a held request's body is read only when it is let go.
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 60_000;
    this.server.on("tlsClientError", () => {}); // a client that gives up mid-handshake
  }

  /** Listens on 127.0.0.1 (a free port) with a fresh self-signed certificate. */
  static async start(opts: HttpProxyOptions): Promise<HttpProxy> {
    const { key, cert } = await selfSignedCert();
    const proxy = new HttpProxy(opts, cert, key);
    await new Promise<void>((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    const addr = proxy.server.address();
    if (typeof addr !== "object" || !addr) throw new Error("proxy has no address");
    proxy.port = addr.port;
    return proxy;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** caPem base64-encoded, as a kubeconfig's certificate-authority-data wants it. */
  get caData(): string {
    return Buffer.from(this.caPem).toString("base64");
  }

  /** Requests held in the proxy right now. */
  get heldCount(): number {
    return this.parked.size;
  }

  /** Requests sent to the API server whose answers are not finished (open watches count). */
  get openUpstream(): number {
    return this.inFlight.size;
  }

  /**
   * Answers matching requests `ms` after the API server's answer arrived (the request reaches
   * the API server at once). Returns a function that removes this rule (answers already
   * waiting keep their delay). The longest matching delay applies.
   */
  delay(match: RequestMatch, ms: number): () => void {
    return this.addRule({ kind: "delay", match, ms });
  }

  /**
   * Keeps matching requests in the proxy, not sent to the API server, until `release()` or
   * `clear()`, or until their client gives up. Returns a function that removes this rule
   * (requests already held stay held).
   */
  hold(match: RequestMatch): () => void {
    return this.addRule({ kind: "hold", match });
  }

  /**
   * Answers matching requests itself with `status` and the JSON `body` (a Status object, or
   * the lines of a watch), never sending them to the API server: a server that refuses a
   * parameter, or a watch told its version is gone. Returns a function that removes the rule.
   */
  answer(match: RequestMatch, status: number, body: string): () => void {
    return this.addRule({ kind: "answer", match, status, body });
  }

  /**
   * Stops the bytes of matching answers, those streaming now and those to come, while their
   * connections stay open: a watch that goes quiet, so the client's cache is synced but stale.
   * `thawStreams()` lets what was kept flow on.
   */
  freezeStreams(match: RequestMatch): void {
    this.freezes.push(match);
    for (const [valve, req] of this.valves) if (match(req)) valve.freeze();
  }

  thawStreams(): void {
    this.freezes = [];
    for (const valve of this.valves.keys()) valve.thaw();
  }

  /** Removes the hold rules and sends every held request on. */
  release(): void {
    this.rules = this.rules.filter((r) => r.kind !== "hold");
    this.letGo();
  }

  /** Removes every rule, sends held requests on and delayed answers out now. */
  clear(): void {
    this.rules = [];
    this.thawStreams();
    this.letGo();
    for (const [timer, fire] of [...this.delayed]) {
      clearTimeout(timer);
      fire();
    }
  }

  /** Resolves with the first request (seen already or later) for which `pred` holds. */
  async waitFor(pred: (s: SeenRequest) => boolean, timeoutMs = 10_000): Promise<SeenRequest> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const hit = this.seen.find(pred);
        if (!hit) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no such request through the proxy in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Cuts every connection, held and in-flight requests included, and stops listening. */
  async close(): Promise<void> {
    this.rules = [];
    for (const timer of this.delayed.keys()) clearTimeout(timer);
    this.delayed.clear();
    this.parked.clear();
    for (const r of [...this.inFlight]) r.destroy();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    this.agent.destroy();
    await closed;
  }

  private addRule(rule: Rule): () => void {
    this.rules.push(rule);
    return () => {
      this.rules = this.rules.filter((r) => r !== rule);
    };
  }

  private letGo(): void {
    const parked = [...this.parked];
    this.parked.clear();
    for (const p of parked) p.go();
  }

  private update(entry: SeenRequest, fields: Partial<SeenRequest>): void {
    Object.assign(entry, fields);
    for (const w of [...this.waiters]) w();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const info: ProxiedRequest = {
      method: req.method ?? "GET",
      path: q === -1 ? url : url.slice(0, q),
      query: q === -1 ? "" : url.slice(q + 1),
    };
    const entry: SeenRequest = { ...info, atMs: preciseNow() };
    this.seen.push(entry);
    const matching = this.rules.filter((r) => r.match(info));
    const answer = matching.find((r) => r.kind === "answer");
    if (answer?.kind === "answer") {
      this.update(entry, { answeredByProxy: true, status: answer.status });
      res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body);
      return;
    }
    const delayMs = Math.max(0, ...matching.map((r) => (r.kind === "delay" ? r.ms : 0)));
    if (delayMs > 0) entry.delayedMs = delayMs;
    let cancel = () => {};
    res.on("close", () => {
      if (res.writableFinished) return;
      this.update(entry, { aborted: true });
      cancel();
    });
    req.on("error", () => {}); // a client reset: res "close" cleans up
    const forward = () => (cancel = this.forward(req, res, entry, delayMs));
    if (!matching.some((r) => r.kind === "hold")) return void forward();
    const parked: Parked = {
      entry,
      go: () => {
        this.update(entry, { releasedAtMs: preciseNow() });
        forward();
      },
    };
    this.parked.add(parked);
    cancel = () => this.parked.delete(parked);
    this.update(entry, { held: true });
  }

  /** Sends the request upstream and its answer back; returns what undoes it on client abort. */
  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    entry: SeenRequest,
    delayMs: number,
  ): () => void {
    const up = request({
      protocol: "https:",
      host: this.target.hostname,
      port: this.target.port,
      method: entry.method,
      path: req.url ?? "/",
      headers: [...endToEnd(req.rawHeaders, ["host"]), "Host", this.target.host],
      agent: this.agent,
    });
    this.inFlight.add(up);
    const done = () => this.inFlight.delete(up);
    let timer: NodeJS.Timeout | undefined;
    up.on("response", (upRes) => {
      this.update(entry, { answeredAtMs: preciseNow(), status: upRes.statusCode ?? 502 });
      const send = () => {
        if (timer) this.delayed.delete(timer);
        this.respond(upRes, res, entry, done);
      };
      if (delayMs === 0) return send();
      timer = setTimeout(send, delayMs);
      this.delayed.set(timer, send);
    });
    up.on("error", (err) => {
      done();
      if (!entry.aborted) this.update(entry, { error: err.message });
      if (res.headersSent || res.destroyed) res.destroy();
      else res.writeHead(502, { "content-type": "text/plain" }).end(`proxy: ${err.message}\n`);
    });
    req.pipe(up);
    this.update(entry, { forwardedAtMs: preciseNow() });
    return () => {
      if (timer) {
        clearTimeout(timer);
        this.delayed.delete(timer);
      }
      done();
      up.destroy();
    };
  }

  private respond(
    upRes: IncomingMessage,
    res: ServerResponse,
    entry: SeenRequest,
    done: () => void,
  ): void {
    if (res.destroyed) {
      upRes.destroy();
      return done();
    }
    res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, endToEnd(upRes.rawHeaders));
    res.flushHeaders(); // a watch's headers come long before its first event
    this.update(entry, { respondedAtMs: preciseNow() });
    const valve = new Valve();
    this.valves.set(valve, entry);
    if (this.freezes.some((m) => m(entry))) valve.freeze();
    pipeline(upRes, valve, res, (err) => {
      this.valves.delete(valve);
      done();
      if (err && !entry.aborted) this.update(entry, { error: err.message });
      else if (!err) this.update(entry, { finishedAtMs: preciseNow() });
    });
  }
}
