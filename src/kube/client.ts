// Connection to the cluster: the in-cluster service account inside a pod, the kubeconfig
// elsewhere. Built once at the CLI edge and passed down.
import { readFileSync } from "node:fs";
import * as k8s from "@kubernetes/client-node";

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
 * client-node gives every request and every watch a new undici Agent: a connection pool of its
 * own, so a TLS handshake each time and a pool per watch cache. This KubeConfig hands all of
 * them one pool: a kill, an Event or a Lease renewal reuses a kept-alive connection, and a
 * hundred watch caches share one pool. Credentials in headers (tokens) are still applied per
 * request; the pool's TLS settings (CA, client certificate) are those of the loaded kubeconfig.
 */
class PooledKubeConfig extends k8s.KubeConfig {
  private pool: Dispatcher | undefined;

  override async applySecurityAuthentication(ctx: k8s.RequestContext): Promise<void> {
    await super.applySecurityAuthentication(ctx);
    const made = ctx.getDispatcher(); // new, and not connected yet
    if (made === undefined) return;
    this.pool ??= made;
    ctx.setDispatcher(this.pool);
  }
}

export function loadKubeConfig(opts: ConnectOptions): k8s.KubeConfig {
  const kc = new PooledKubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else if (opts.inCluster) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (opts.context) kc.setCurrentContext(opts.context);
  if (!kc.getCurrentCluster())
    throw new Error("no cluster in the kubeconfig (use --kubeconfig or --context)");
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
