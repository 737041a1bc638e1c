// An observer independent of the monkey: its own watches on one Deployment's pods and status,
// recording when each pod was deleted and when the Deployment was next whole with a new Ready pod.
import * as k8s from "@kubernetes/client-node";
import type { Kube } from "./kube.js";
import { isPodReady, preciseNow } from "./kube.js";

interface PodSeen {
  uid: string;
  firstSeen: number;
  deletedAt?: number;
  readyAt?: number;
}

export class DeploymentWatcher {
  private readonly pods = new Map<string, PodSeen>(); // by uid
  private readonly byName = new Map<string, string[]>(); // name → uids
  private readonly whole: { at: number; whole: boolean }[] = [];
  private readonly aborts: AbortController[] = [];

  constructor(
    private readonly kube: Kube,
    private readonly namespace: string,
    private readonly name: string,
  ) {}

  async start(): Promise<void> {
    const w = new k8s.Watch(this.kube.kc);
    this.aborts.push(
      await w.watch(
        `/api/v1/namespaces/${this.namespace}/pods`,
        { labelSelector: `app=${this.name}` },
        (_t: string, p: k8s.V1Pod) => this.onPod(p),
        () => undefined,
      ),
      await w.watch(
        `/apis/apps/v1/namespaces/${this.namespace}/deployments`,
        { fieldSelector: `metadata.name=${this.name}` },
        (_t: string, d: k8s.V1Deployment) => {
          const ok =
            (d.status?.readyReplicas ?? 0) >= (d.spec?.replicas ?? 1) &&
            (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
          this.whole.push({ at: preciseNow(), whole: ok });
        },
        () => undefined,
      ),
    );
  }

  stop(): void {
    for (const a of this.aborts) a.abort();
  }

  private onPod(p: k8s.V1Pod): void {
    const now = preciseNow();
    const uid = p.metadata?.uid ?? "";
    let seen = this.pods.get(uid);
    if (!seen) {
      seen = { uid, firstSeen: now };
      this.pods.set(uid, seen);
      const name = p.metadata?.name ?? "";
      this.byName.set(name, [...(this.byName.get(name) ?? []), uid]);
    }
    if (p.metadata?.deletionTimestamp) seen.deletedAt ??= now;
    else if (isPodReady(p)) seen.readyAt ??= now;
  }

  /** Seconds from `podName`'s deletion until a pod created after it is Ready and the Deployment whole. */
  recoverySeconds(podName: string): number | undefined {
    const victim = (this.byName.get(podName) ?? [])
      .map((u) => this.pods.get(u))
      .find((s) => s?.deletedAt !== undefined);
    const t0 = victim?.deletedAt;
    if (t0 === undefined) return undefined;
    // A replacement is any pod first seen after the pods that existed before the kill; allow
    // a few ms for the ReplicaSet's create racing our deletion event.
    const readyTimes = [...this.pods.values()]
      .filter((s) => s.uid !== victim?.uid && s.firstSeen >= t0 - 100 && s.readyAt !== undefined)
      .map((s) => s.readyAt as number);
    if (readyTimes.length === 0) return undefined;
    const ready = Math.min(...readyTimes);
    // Two watch streams do not order against each other: the status saying "whole" may arrive
    // just before or just after the pod's Ready. Recovered is the first instant both hold.
    const before = this.whole.filter((e) => e.at > t0 && e.at <= ready).pop();
    if (before?.whole) return (ready - t0) / 1000;
    const whole = this.whole.find((e) => e.whole && e.at >= ready);
    return whole === undefined ? undefined : (whole.at - t0) / 1000;
  }
}
