// Connection to the cluster: the in-cluster service account inside a pod, the kubeconfig
// elsewhere. Built once at the CLI edge and passed down.
import { readFileSync } from "node:fs";
import type https from "node:https";
import * as k8s from "@kubernetes/client-node";
import { Agent } from "undici";
import { ClusterError } from "./preflight.js";

export interface KubeClients {
  readonly kc: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly coordination: k8s.CoordinationV1Api;
  readonly events: k8s.EventsV1Api;
}

export interface ConnectOptions {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  /** True when running in a pod (KUBERNETES_SERVICE_HOST is set) and no kubeconfig was given. */
  readonly inCluster: boolean;
}

const SA_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

type Dispatcher = NonNullable<ReturnType<k8s.RequestContext["getDispatcher"]>>;

/**
 * An answer's headers must arrive within this long. A request on a connection that silently
 * stopped carrying bytes (a partition, a dropped NAT entry) then fails instead of waiting
 * undici's default 5 minutes, and undici pings the connection and replaces it if it is dead, so
 * the requests after it, and every watch sharing it, move to a fresh one. A LIST's headers come
 * before its body: large lists are not cut short by it.
 */
export const HEADERS_TIMEOUT_MS = 30_000;

/**
 * client-node gives every request and every watch a new undici Agent: a connection pool of its
 * own, so a TLS handshake each time and a pool per watch cache. This KubeConfig hands all of
 * them one pool: a kill, an Event or a Lease renewal reuses a kept-alive connection, and a
 * hundred watch caches share one pool (HTTP/2 where the API server offers it). Credentials in
 * headers (tokens) are still applied per request; the pool's TLS settings (CA, client
 * certificate) are those of the loaded kubeconfig.
 */
class PooledKubeConfig extends k8s.KubeConfig {
  private pool: Promise<Dispatcher> | undefined;

  override async applySecurityAuthentication(ctx: k8s.RequestContext): Promise<void> {
    await super.applySecurityAuthentication(ctx);
    const made = ctx.getDispatcher(); // new, and not connected yet
    if (made === undefined) return;
    this.pool ??= this.makePool(made);
    ctx.setDispatcher(await this.pool);
  }

  /** client-node's own TLS options, in an Agent with a bound on waiting for an answer. */
  private async makePool(fallback: Dispatcher): Promise<Dispatcher> {
    const tls: https.RequestOptions = {};
    await this.applyToHTTPSOptions(tls);
    const opts = this.createDispatcherOptions(this.getCurrentCluster(), {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      pfx: tls.pfx,
      passphrase: tls.passphrase,
      ...(tls.rejectUnauthorized === undefined
        ? {}
        : { rejectUnauthorized: tls.rejectUnauthorized }),
      ...(tls.servername === undefined ? {} : { servername: tls.servername }),
    });
    // A proxy keeps client-node's own dispatcher (shared all the same).
    if (opts.type !== "agent") return fallback;
    return new Agent({ connect: opts.connect, headersTimeout: HEADERS_TIMEOUT_MS });
  }
}

const READ_ERRORS: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EISDIR: "it is a directory",
};

function loadFile(kc: k8s.KubeConfig, path: string): void {
  try {
    kc.loadFromFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    const why = READ_ERRORS[code] ?? (err instanceof Error ? err.message : String(err));
    throw new ClusterError(
      `cannot read kubeconfig ${path}: ${why}${code ? ` (${code})` : ""}; pass --kubeconfig with a readable kubeconfig file`,
    );
  }
}

export function loadKubeConfig(opts: ConnectOptions): k8s.KubeConfig {
  const kc = new PooledKubeConfig();
  if (opts.kubeconfig) loadFile(kc, opts.kubeconfig);
  else if (opts.inCluster) kc.loadFromCluster();
  else kc.loadFromDefault();
  const source =
    opts.kubeconfig ??
    (opts.inCluster
      ? "the in-cluster service account"
      : "the default kubeconfig (KUBECONFIG or ~/.kube/config)");
  if (opts.context) {
    const known = kc.getContexts().map((c) => c.name);
    if (!known.includes(opts.context))
      throw new ClusterError(
        `context ${opts.context} is not in ${source} (contexts: ${known.join(", ") || "none"})`,
      );
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster())
    throw new ClusterError(`no cluster in ${source}: pass --kubeconfig, or --context to pick one`);
  return kc;
}

export function makeClients(kc: k8s.KubeConfig): KubeClients {
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    coordination: kc.makeApiClient(k8s.CoordinationV1Api),
    events: kc.makeApiClient(k8s.EventsV1Api),
  };
}

/** The namespace the monkey runs in: the service account's inside a pod, else the context's. */
export function ownNamespace(kc: k8s.KubeConfig, inCluster: boolean): string {
  if (inCluster) {
    try {
      return readFileSync(SA_NAMESPACE, "utf8").trim();
    } catch {
      // fall through to the kubeconfig's namespace
    }
  }
  return kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
}

export const statusCode = (err: unknown): number | undefined =>
  err instanceof k8s.ApiException ? err.code : undefined;
