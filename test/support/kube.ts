// Test-side access to the real local control plane: clients, per-file namespaces, and waiting on
// watches. The tests act and observe through the same API a user's tools would.
import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";

export interface Kube {
  readonly kc: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly policy: k8s.PolicyV1Api;
  readonly rbac: k8s.RbacAuthorizationV1Api;
  readonly objects: k8s.KubernetesObjectApi;
}

export function connect(kubeconfigPath: string): Kube {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return {
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    policy: kc.makeApiClient(k8s.PolicyV1Api),
    rbac: kc.makeApiClient(k8s.RbacAuthorizationV1Api),
    objects: k8s.KubernetesObjectApi.makeApiClient(kc),
  };
}

export const statusOf = (err: unknown): number | undefined =>
  err instanceof k8s.ApiException ? err.code : undefined;

/** Creates a fresh namespace and waits until pods can be admitted into it. */
export async function createNamespace(kube: Kube, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await kube.core.createNamespace({
    body: { metadata: { name, labels: { "e2e.chaos-monkey.io/test": "true" } } },
  });
  // Admission refuses pods until the namespace's default ServiceAccount exists.
  await watchUntil(kube, {
    path: `/api/v1/namespaces/${name}/serviceaccounts`,
    until: (_t, o) => o.metadata?.name === "default",
    timeoutMs: 30_000,
  });
  return name;
}

export async function deleteNamespace(kube: Kube, name: string): Promise<void> {
  try {
    await kube.core.deleteNamespace({ name });
  } catch (err) {
    if (statusOf(err) !== 404) throw err;
  }
}

export interface Observed<T> {
  readonly type: string;
  readonly object: T;
  /** Client wall-clock time (ms, sub-millisecond precision) when the event arrived. */
  readonly atMs: number;
}

export const preciseNow = (): number => performance.timeOrigin + performance.now();

/**
 * Watches `path` (list first, so a state that already holds counts) until `until` is true for
 * an event, and resolves with that event and its arrival time.
 */
export async function watchUntil<T extends k8s.KubernetesObject = k8s.KubernetesObject>(
  kube: Kube,
  opts: {
    path: string;
    query?: Record<string, string>;
    until: (type: string, obj: T) => boolean;
    timeoutMs: number;
  },
): Promise<Observed<T>> {
  const watch = new k8s.Watch(kube.kc);
  // client-node ends a watch that saw nothing for 30 s (its inactivity timeout): waiting on a
  // slow change (a pod made Ready 30 s after it starts) must last as long as the caller asked.
  (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = opts.timeoutMs + 5_000;
  let abort: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<Observed<T>>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${opts.timeoutMs} ms watching ${opts.path}`)),
        opts.timeoutMs,
      );
      const onEvent = (type: string, obj: T) => {
        if (opts.until(type, obj)) resolve({ type, object: obj, atMs: preciseNow() });
      };
      watch
        .watch(
          opts.path,
          {
            ...opts.query,
            sendInitialEvents: true,
            resourceVersionMatch: "NotOlderThan",
            allowWatchBookmarks: true,
          },
          onEvent,
          (err: unknown) => {
            if (err) reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
          },
        )
        .then((a) => (abort = a), reject);
    });
  } finally {
    clearTimeout(timer);
    abort?.abort();
  }
}

/**
 * The tests' own reading of pod readiness, written from the Kubernetes API rather than taken from
 * the monkey (src/kube/objects.ts), so that a bug there cannot agree with itself: the kubelet (here
 * KWOK) reports readiness as the pod's `Ready` condition with status "True" (a string: "False" and
 * "Unknown" are not ready), and a pod being deleted (deletionTimestamp set) is on its way out, so it
 * no longer counts as ready, whatever its last condition says.
 */
export function isPodReady(pod: k8s.V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null)
    return false;
  const ready = (pod.status?.conditions ?? []).filter((c) => c.type === "Ready");
  return ready.length > 0 && ready.every((c) => c.status === "True");
}

/** Waits until Deployment namespace/name reports at least `replicas` ready replicas. */
export async function deploymentReady(
  kube: Kube,
  namespace: string,
  name: string,
  replicas: number,
): Promise<void> {
  await watchUntil<k8s.V1Deployment>(kube, {
    path: `/apis/apps/v1/namespaces/${namespace}/deployments`,
    query: { fieldSelector: `metadata.name=${name}` },
    until: (_t, d) => (d.status?.readyReplicas ?? 0) >= replicas,
    timeoutMs: 60_000,
  });
}
