// Candidates built from API objects carry what the SPEC §2 / §7 guards read: every field a
// field selector may name, and for claims and volumes the claim and the pods that guard them.
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { SELECTABLE_FIELDS } from "../selectors/labels.js";
import { podEssentials } from "../kube/objects.js";
import type { WorkloadLookup } from "../kube/objects.js";
import { claimCandidate, podCandidate, volumeCandidate } from "./from-objects.js";

const OPT_OUT = "chaos-monkey.io/exclude";
const noWorkloads: WorkloadLookup = () => undefined;

const pod = (name: string, annotations: Record<string, string> = {}): V1Pod => ({
  metadata: {
    name,
    namespace: "shop",
    uid: `uid-${name}`,
    resourceVersion: "7",
    annotations,
    ownerReferences: [
      { apiVersion: "apps/v1", kind: "StatefulSet", name: "db", uid: "sts", controller: true },
    ],
  },
  spec: {
    containers: [{ name: "c", image: "i" }],
    nodeName: "node-1",
    restartPolicy: "Always",
    schedulerName: "default-scheduler",
    serviceAccountName: "db",
    volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data-db-0" } }],
  },
  status: {
    phase: "Running",
    podIP: "10.0.0.9",
    nominatedNodeName: "node-2",
    hostIP: "192.0.2.4",
  },
});

const claim = (
  annotations: Record<string, string> = {},
  uid = "pvc-uid",
): V1PersistentVolumeClaim => ({
  metadata: { name: "data-db-0", namespace: "shop", uid, annotations },
  spec: { volumeName: "pv-1" },
  status: { phase: "Bound" },
});

const volume: V1PersistentVolume = {
  metadata: { name: "pv-1", uid: "pv-uid" },
  spec: {
    storageClassName: "ssd",
    claimRef: {
      kind: "PersistentVolumeClaim",
      namespace: "shop",
      name: "data-db-0",
      uid: "pvc-uid",
    },
  },
  status: { phase: "Bound" },
};

describe("podCandidate", () => {
  it("fills every field a Pod field selector may name, and nothing else", () => {
    const c = podCandidate(pod("db-0"), noWorkloads);
    expect(Object.keys(c.fields).sort()).toEqual([...SELECTABLE_FIELDS.Pod].sort());
    expect(c.fields).toEqual({
      "metadata.name": "db-0",
      "metadata.namespace": "shop",
      "spec.nodeName": "node-1",
      "spec.restartPolicy": "Always",
      "spec.schedulerName": "default-scheduler",
      "spec.serviceAccountName": "db",
      "status.nominatedNodeName": "node-2",
      "status.phase": "Running",
      "status.podIP": "10.0.0.9",
    });
    expect(c.guardAnnotations).toEqual([]);
    expect(c.consumers).toEqual([]);
  });

  it("reads the same fields from the cache's trimmed pod (podEssentials)", () => {
    const p = pod("db-0");
    expect(podCandidate(podEssentials(p), noWorkloads)).toEqual(podCandidate(p, noWorkloads));
  });
});

describe("claimCandidate", () => {
  it("is guarded by the annotations of the pods mounting it, and lists them", () => {
    const consumers = [pod("db-0"), pod("db-1", { [OPT_OUT]: "true" })];
    const c = claimCandidate(claim(), consumers, noWorkloads);
    expect(c.guardAnnotations).toEqual([{}, { [OPT_OUT]: "true" }]);
    expect(c.consumers).toEqual([
      { namespace: "shop", name: "db-0", uid: "uid-db-0", resourceVersion: "7" },
      { namespace: "shop", name: "db-1", uid: "uid-db-1", resourceVersion: "7" },
    ]);
    expect(Object.keys(c.fields).sort()).toEqual([...SELECTABLE_FIELDS.PersistentVolumeClaim]);
  });

  it("has no guards beyond itself and its namespace when nothing mounts it", () => {
    const c = claimCandidate(claim(), [], noWorkloads);
    expect(c.guardAnnotations).toEqual([]);
    expect(c.consumers).toEqual([]);
  });
});

describe("volumeCandidate", () => {
  it("is guarded by its bound claim and the claim's pods", () => {
    const c = volumeCandidate(volume, claim({ team: "x" }), [pod("db-0")], noWorkloads);
    expect(c.guardNamespaces).toEqual(["shop"]);
    expect(c.guardAnnotations).toEqual([{ team: "x" }, {}]);
    expect(c.consumers.map((p) => p.name)).toEqual(["db-0"]);
    expect(c.fields).toEqual({ "metadata.name": "pv-1", "metadata.namespace": "" });
  });

  it("guards as unknown (fail closed) when no cache holds the claim", () => {
    expect(volumeCandidate(volume, undefined, [], noWorkloads).guardAnnotations).toEqual([
      undefined,
    ]);
  });

  it("does not take another claim of the same name for its own", () => {
    const impostor = claim({}, "another-uid");
    expect(volumeCandidate(volume, impostor, [], noWorkloads).guardAnnotations).toEqual([
      undefined,
    ]);
  });

  it("has no claim guards while unbound", () => {
    const free: V1PersistentVolume = { ...volume, spec: {}, status: { phase: "Available" } };
    const c = volumeCandidate(free, undefined, [], noWorkloads);
    expect(c.guardNamespaces).toEqual([]);
    expect(c.guardAnnotations).toEqual([]);
  });
});
