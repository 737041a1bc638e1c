// An observer independent of the monkey: its own watches on Deployments' pods and status,
// recording when each pod was deleted and when its Deployment was next whole with a new Ready
// pod. Pods belong to the Deployment named by their `app` label (as every test object does).
import * as k8s from "@kubernetes/client-node";
import type { Kube } from "./kube.js";
import { isPodReady, preciseNow } from "./kube.js";

interface PodSeen {
  uid: string;
  /** namespace/app: the Deployment the pod belongs to. */
  app: string;
  firstSeen: number;
  deletedAt?: number;
  readyAt?: number;
}

export interface WatchScope {
  /** Pods to watch, e.g. /api/v1/pods or /api/v1/namespaces/NS/pods. */
  readonly podsPath: string;
  readonly podSelector?: string;
  /** Deployments to watch. */
  readonly deploymentsPath: string;
  readonly deploymentFieldSelector?: string;
}

const keyOf = (m: k8s.V1ObjectMeta | undefined, name = m?.name): string =>
  `${m?.namespace ?? ""}/${name ?? ""}`;

export class RecoveryWatcher {
  private readonly podsByUid = new Map<string, PodSeen>();
  private readonly byName = new Map<string, string[]>(); // namespace/name → uids
  private readonly byDeployment = new Map<string, string[]>(); // namespace/app → uids
  private readonly whole = new Map<string, { at: number; whole: boolean }[]>(); // namespace/name
  private readonly aborts: AbortController[] = [];
  private stopped = false;

  constructor(
    private readonly kube: Kube,
    private readonly scope: WatchScope,
  ) {}

  async start(): Promise<void> {
    await Promise.all([
      this.follow(
        this.scope.podsPath,
        this.scope.podSelector ? { labelSelector: this.scope.podSelector } : {},
        (p: k8s.V1Pod) => this.onPod(p),
      ),
      this.follow(
        this.scope.deploymentsPath,
        this.scope.deploymentFieldSelector
          ? { fieldSelector: this.scope.deploymentFieldSelector }
          : {},
        (d: k8s.V1Deployment) => {
          const ok =
            (d.status?.readyReplicas ?? 0) >= (d.spec?.replicas ?? 1) &&
            (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
          push(this.whole, keyOf(d.metadata), { at: preciseNow(), whole: ok });
        },
      ),
    ]);
  }

  /**
   * Watches `path` for as long as the watcher runs: a quiet stretch (client-node's inactivity
   * timer gives up after 30 s without bytes; bookmarks keep it fed) or the server's own timeout
   * ends one watch, and the next resumes from the last version seen.
   */
  private async follow<T extends k8s.KubernetesObject>(
    path: string,
    query: Record<string, string>,
    onObject: (o: T) => void,
  ): Promise<void> {
    let rv = "";
    const open = async (): Promise<void> => {
      if (this.stopped) return;
      const w = new k8s.Watch(this.kube.kc);
      (w as unknown as { requestTimeoutMs: number }).requestTimeoutMs = 5 * 60_000;
      const abort = await w.watch(
        path,
        { ...query, allowWatchBookmarks: true, ...(rv ? { resourceVersion: rv } : {}) },
        (type: string, o: T & { code?: number }) => {
          // (A 410 is not expected within a run; should one come, start over from the present.)
          if (type === "ERROR") rv = o.code === 410 ? "" : rv;
          else rv = o.metadata?.resourceVersion ?? rv;
          if (type !== "BOOKMARK" && type !== "ERROR") onObject(o);
        },
        (err: unknown) => {
          if ((err as { statusCode?: number } | null)?.statusCode === 410) rv = "";
          if (!this.stopped) setTimeout(() => void open(), err ? 200 : 50);
        },
      );
      this.aborts.push(abort);
    };
    await open();
  }

  stop(): void {
    this.stopped = true;
    for (const a of this.aborts) a.abort();
  }

  /** Pods seen so far (deleted ones included). */
  get pods(): number {
    return this.podsByUid.size;
  }

  private onPod(p: k8s.V1Pod): void {
    const now = preciseNow();
    const uid = p.metadata?.uid ?? "";
    let seen = this.podsByUid.get(uid);
    if (!seen) {
      seen = { uid, app: keyOf(p.metadata, p.metadata?.labels?.app), firstSeen: now };
      this.podsByUid.set(uid, seen);
      push(this.byName, keyOf(p.metadata), uid);
      push(this.byDeployment, seen.app, uid);
    }
    if (p.metadata?.deletionTimestamp) seen.deletedAt ??= now;
    else if (isPodReady(p)) seen.readyAt ??= now;
  }

  /**
   * Seconds from pod namespace/podName's deletion until a pod of its Deployment created after it
   * is Ready and the Deployment is whole.
   */
  recoveryOf(namespace: string, podName: string): number | undefined {
    const uids = this.byName.get(`${namespace}/${podName}`) ?? [];
    const victim = uids.map((u) => this.podsByUid.get(u)).find((s) => s?.deletedAt !== undefined);
    const t0 = victim?.deletedAt;
    if (victim === undefined || t0 === undefined) return undefined;
    const app = victim.app;
    // A replacement is any pod first seen after the pods that existed before the kill; allow
    // a few ms for the ReplicaSet's create racing our deletion event.
    const readyTimes = (this.byDeployment.get(app) ?? [])
      .map((u) => this.podsByUid.get(u))
      .filter((s): s is PodSeen => s !== undefined)
      .filter((s) => s.uid !== victim.uid && s.firstSeen >= t0 - 100 && s.readyAt !== undefined)
      .map((s) => s.readyAt as number);
    if (readyTimes.length === 0) return undefined;
    const ready = Math.min(...readyTimes);
    // The Deployment's status reports the loss (not whole) soon after the deletion; a "whole"
    // status before that is the previous state, not this recovery (back-to-back kills).
    const all = this.whole.get(app) ?? [];
    const dip = all.findIndex((e) => e.at > t0 && !e.whole);
    if (dip === -1) return undefined;
    const history = all.slice(dip);
    // Two watch streams do not order against each other: the status saying "whole" may arrive
    // just before or just after the pod's Ready. Recovered is the first instant both hold.
    const before = history.filter((e) => e.at <= ready).pop();
    if (before?.whole) return (ready - t0) / 1000;
    const whole = history.find((e) => e.whole && e.at >= ready);
    return whole === undefined ? undefined : (whole.at - t0) / 1000;
  }
}

/** The watcher scoped to one Deployment `name` (pods labelled app=name) in `namespace`. */
export class DeploymentWatcher extends RecoveryWatcher {
  constructor(
    kube: Kube,
    private readonly namespace: string,
    name: string,
  ) {
    super(kube, {
      podsPath: `/api/v1/namespaces/${namespace}/pods`,
      podSelector: `app=${name}`,
      deploymentsPath: `/apis/apps/v1/namespaces/${namespace}/deployments`,
      deploymentFieldSelector: `metadata.name=${name}`,
    });
  }

  /** Seconds from `podName`'s deletion until a pod created after it is Ready and the Deployment whole. */
  recoverySeconds(podName: string): number | undefined {
    return this.recoveryOf(this.namespace, podName);
  }
}

function push<T>(m: Map<string, T[]>, key: string, v: T): void {
  const list = m.get(key);
  if (list) list.push(v);
  else m.set(key, [v]);
}
