// Kubernetes Events (events.k8s.io/v1) on each victim's workload, or the victim itself: what
// `kubectl events` shows an SRE next to the workload that was hit.
import { V1MicroTime } from "@kubernetes/client-node";
import type { EventsV1Api } from "@kubernetes/client-node";

export interface Regarding {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface ChaosEvent {
  readonly reason: "ChaosKill" | "ChaosRecovered" | "ChaosNotRecovered";
  readonly type: "Normal" | "Warning";
  readonly regarding: Regarding;
  readonly note: string;
}

export const REPORTING_CONTROLLER = "chaos-monkey.io/kube-chaos-monkey";

const API_VERSIONS: Record<string, string> = {
  Pod: "v1",
  PersistentVolumeClaim: "v1",
  PersistentVolume: "v1",
  Deployment: "apps/v1",
  StatefulSet: "apps/v1",
  DaemonSet: "apps/v1",
  ReplicaSet: "apps/v1",
};

export const apiVersionOf = (kind: string): string => API_VERSIONS[kind] ?? "v1";

export type EventSink = (e: ChaosEvent) => Promise<void>;

export function eventSink(api: EventsV1Api, instance: string, now: () => number): EventSink {
  return async (e) => {
    // Events of a cluster-scoped object (a PersistentVolume) live in "default", as kubelet's do.
    const namespace = e.regarding.namespace || "default";
    await api.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${e.regarding.name}-chaos-`, namespace },
        eventTime: new V1MicroTime(now()),
        reportingController: REPORTING_CONTROLLER,
        reportingInstance: instance,
        action: e.reason === "ChaosKill" ? "Kill" : "Observe",
        reason: e.reason,
        type: e.type,
        regarding: { ...e.regarding, namespace: e.regarding.namespace || undefined },
        note: e.note.slice(0, 1024),
      },
    });
  };
}
