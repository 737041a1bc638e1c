// Every Kubernetes object the e2e tests create, built in one place.
import type * as k8s from "@kubernetes/client-node";

export interface PodTemplateOptions {
  readonly replicas?: number;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

function podSpec(): k8s.V1PodSpec {
  return {
    terminationGracePeriodSeconds: 5,
    containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }],
  };
}

export function deployment(
  namespace: string,
  name: string,
  o: PodTemplateOptions = {},
): k8s.V1Deployment {
  const labels = { app: name, ...o.labels };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas: o.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels, ...(o.annotations ? { annotations: o.annotations } : {}) },
        spec: podSpec(),
      },
    },
  };
}

export function pod(
  namespace: string,
  name: string,
  o: Omit<PodTemplateOptions, "replicas"> = {},
): k8s.V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace,
      labels: { app: name, ...o.labels },
      ...(o.annotations ? { annotations: o.annotations } : {}),
    },
    spec: podSpec(),
  };
}

export function pdb(
  namespace: string,
  name: string,
  app: string,
  maxUnavailable: number,
): k8s.V1PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name, namespace },
    spec: { maxUnavailable, selector: { matchLabels: { app } } },
  };
}

/** A static hostPath volume pre-bound to claim namespace/claim (no provisioner runs here). */
export function staticVolume(
  name: string,
  namespace: string,
  claim: string,
): k8s.V1PersistentVolume {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name, labels: { "e2e.chaos-monkey.io/namespace": namespace } },
    spec: {
      capacity: { storage: "1Gi" },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: "e2e-static",
      hostPath: { path: `/var/lib/e2e/${name}` },
      claimRef: { namespace, name: claim },
    },
  };
}

/** A claim for `volume` (see staticVolume), with extra finalizers and labels if asked. */
export function claim(
  namespace: string,
  name: string,
  volume: string,
  o: { finalizers?: string[]; labels?: Record<string, string> } = {},
): k8s.V1PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name,
      namespace,
      labels: { app: name, ...o.labels },
      ...(o.finalizers ? { finalizers: o.finalizers } : {}),
    },
    spec: {
      accessModes: ["ReadWriteOnce"],
      storageClassName: "e2e-static",
      volumeName: volume,
      resources: { requests: { storage: "1Gi" } },
    },
  };
}

/** A StatefulSet of `replicas` pods (Parallel, so pods start together), no volumes. */
export function statefulSet(
  namespace: string,
  name: string,
  o: PodTemplateOptions = {},
): k8s.V1StatefulSet {
  const labels = { app: name, ...o.labels };
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas: o.replicas ?? 1,
      serviceName: name,
      podManagementPolicy: "Parallel",
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels, ...(o.annotations ? { annotations: o.annotations } : {}) },
        spec: podSpec(),
      },
    },
  };
}

/** A DaemonSet: one pod on every (KWOK) node. */
export function daemonSet(
  namespace: string,
  name: string,
  o: Omit<PodTemplateOptions, "replicas"> = {},
): k8s.V1DaemonSet {
  const labels = { app: name, ...o.labels };
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels, ...(o.annotations ? { annotations: o.annotations } : {}) },
        spec: podSpec(),
      },
    },
  };
}
