import type { V1Pod } from "@kubernetes/client-node";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { podEssentials, topOwner } from "./objects.js";
import type { WorkloadLookup } from "./objects.js";
import { isPodReady } from "../recover/readiness.js";
import { podCandidate } from "../select/from-objects.js";
import { claimNamesOf, consumersOf } from "./consumers.js";

// A pod as the API server returns it (from the local cluster), with a claim volume added.
const full: V1Pod = JSON.parse(`{
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {"creationTimestamp": "2026-11-21T07:22:13Z", "generateName": "app-0-5d565ffd9c-",
    "generation": 1, "labels": {"app": "app-0", "pod-template-hash": "5d565ffd9c"},
    "annotations": {"chaos-monkey.io/exclude": "false"},
    "name": "app-0-5d565ffd9c-257qr", "namespace": "bench-00",
    "ownerReferences": [{"apiVersion": "apps/v1", "blockOwnerDeletion": true, "controller": true,
      "kind": "ReplicaSet", "name": "app-0-5d565ffd9c", "uid": "rs-uid"}],
    "resourceVersion": "13355", "uid": "pod-uid"},
  "spec": {"containers": [{"image": "registry.k8s.io/pause:3.10", "name": "app",
      "volumeMounts": [{"mountPath": "/data", "name": "data"}]}],
    "nodeName": "node-000003", "serviceAccountName": "default", "restartPolicy": "Always",
    "tolerations": [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists"}],
    "volumes": [{"name": "kube-api-access-42sbg", "projected": {"defaultMode": 420, "sources": []}},
      {"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}}]},
  "status": {"conditions": [
      {"lastTransitionTime": "2026-11-21T07:22:17Z", "status": "True", "type": "Initialized"},
      {"lastTransitionTime": "2026-11-21T07:22:17Z", "status": "True", "type": "Ready"}],
    "hostIP": "192.0.2.4", "phase": "Running", "podIP": "10.0.3.30", "qosClass": "BestEffort"}
}`) as V1Pod;

const lookup: WorkloadLookup = (kind, namespace, name) =>
  kind === "ReplicaSet" && name === "app-0-5d565ffd9c"
    ? {
        metadata: {
          name,
          namespace,
          uid: "rs-uid",
          ownerReferences: [
            {
              apiVersion: "apps/v1",
              kind: "Deployment",
              name: "app-0",
              uid: "d",
              controller: true,
            },
          ],
        },
      }
    : undefined;

/** Everything the monkey derives from a pod. */
const derived = (p: V1Pod) => ({
  candidate: podCandidate(p, lookup),
  ready: isPodReady(p),
  owner: topOwner(p, lookup),
  claims: claimNamesOf(p),
  consumes: consumersOf([p], "bench-00", "data-db-0").length,
  rv: p.metadata?.resourceVersion,
  finalizers: p.metadata?.finalizers,
});

describe("podEssentials", () => {
  it("keeps everything the monkey derives from a real pod, and is much smaller", () => {
    expect(derived(podEssentials(full))).toEqual(derived(full));
    expect(JSON.stringify(podEssentials(full)).length).toBeLessThan(
      JSON.stringify(full).length * 0.6,
    );
  });

  it("keeps what selection and recovery read for any phase, conditions and deletion (property)", () => {
    const condition = fc.record({
      type: fc.constantFrom("Ready", "Initialized", "ContainersReady", "PodScheduled"),
      status: fc.constantFrom("True", "False", "Unknown"),
    });
    fc.assert(
      fc.property(
        fc.option(fc.constantFrom("Pending", "Running", "Succeeded", "Failed")),
        fc.array(condition, { maxLength: 5 }),
        fc.boolean(),
        fc.option(fc.array(fc.constantFrom("a", "b"), { maxLength: 2 })),
        (phase, conditions, deleting, finalizers) => {
          const p: V1Pod = {
            ...full,
            metadata: {
              ...full.metadata,
              ...(deleting ? { deletionTimestamp: new Date(0) } : {}),
              ...(finalizers ? { finalizers } : {}),
            },
            status: { ...full.status, ...(phase ? { phase } : {}), conditions },
          };
          expect(derived(podEssentials(p))).toEqual(derived(p));
        },
      ),
      { numRuns: 300 },
    );
  });
});
