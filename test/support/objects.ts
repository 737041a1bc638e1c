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
