// What an operator or GitOps tool would do for static volumes, played by the test: a Released
// volume is made bindable again (its stale claimRef uid cleared), and a deleted volume is
// recreated from its last known spec, pre-bound to the same claim.
import * as k8s from "@kubernetes/client-node";
import type { Kube } from "./kube.js";
import { statusOf } from "./kube.js";

export class VolumeReconciler {
  private readonly specs = new Map<string, k8s.V1PersistentVolume>();
  private abort: AbortController | undefined;
  readonly actions: string[] = [];

  constructor(
    private readonly kube: Kube,
    /** Label selecting the volumes it looks after. */
    private readonly labelSelector: string,
    private readonly opts: { release: boolean; recreate: boolean },
  ) {}

  async start(): Promise<void> {
    const w = new k8s.Watch(this.kube.kc);
    this.abort = await w.watch(
      "/api/v1/persistentvolumes",
      { labelSelector: this.labelSelector },
      (type: string, pv: k8s.V1PersistentVolume) => void this.on(type, pv),
      () => undefined,
    );
  }

  stop(): void {
    this.abort?.abort();
  }

  private async on(type: string, pv: k8s.V1PersistentVolume): Promise<void> {
    const name = pv.metadata?.name ?? "";
    if (type !== "DELETED" && !pv.metadata?.deletionTimestamp) this.specs.set(name, pv);
    try {
      await this.act(type, name, pv);
    } catch (err) {
      // Another event got there first (the object changed): the next event retries.
      if (statusOf(err) !== 409 && statusOf(err) !== 422) throw err;
    }
  }

  private async act(type: string, name: string, pv: k8s.V1PersistentVolume): Promise<void> {
    if (type === "DELETED") {
      if (this.opts.recreate) await this.recreate(name);
      return;
    }
    const released = pv.status?.phase === "Released" && Boolean(pv.spec?.claimRef?.uid);
    if (this.opts.release && released) await this.release(name, pv);
  }

  private async release(name: string, pv: k8s.V1PersistentVolume): Promise<void> {
    await this.kube.core.patchPersistentVolume({
      name,
      body: [
        { op: "test", path: "/spec/claimRef/uid", value: pv.spec?.claimRef?.uid },
        { op: "remove", path: "/spec/claimRef/uid" },
        { op: "remove", path: "/spec/claimRef/resourceVersion" },
      ],
    });
    this.actions.push(`released ${name}`);
  }

  private async recreate(name: string): Promise<void> {
    const last = this.specs.get(name);
    if (!last) return;
    const ref = last.spec?.claimRef;
    const claim =
      ref?.namespace && ref.name
        ? await this.kube.core.readNamespacedPersistentVolumeClaim({
            name: ref.name,
            namespace: ref.namespace,
          })
        : undefined;
    await this.kube.core.createPersistentVolume({
      body: {
        metadata: { name, labels: last.metadata?.labels ?? {} },
        spec: {
          ...last.spec,
          claimRef: ref
            ? {
                kind: "PersistentVolumeClaim",
                namespace: ref.namespace,
                name: ref.name,
                uid: claim?.metadata?.uid,
              }
            : undefined,
        },
      },
    });
    this.actions.push(`recreated ${name}`);
  }
}
