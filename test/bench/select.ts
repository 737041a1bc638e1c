// How long a round's decision takes with 10,000 eligible pods: building candidates from pod JSON
// (owner resolution through ReplicaSets included) and selectVictims, per mode.
// Run: npx tsx test/bench/select.ts
import os from "node:os";
import type { V1Pod, V1ReplicaSet } from "@kubernetes/client-node";
import seedrandom from "seedrandom";
import { loadConfig } from "../../src/config/load.js";
import { selectVictims } from "../../src/select/select.js";
import { podCandidate } from "../../src/select/from-objects.js";

const PODS = 10_000;
const DEPLOYMENTS = 100;
const NAMESPACES = 20;
const RUNS = 50;

const replicaSets = new Map<string, V1ReplicaSet>();
const pods: V1Pod[] = [];
for (let i = 0; i < PODS; i++) {
  const d = i % DEPLOYMENTS;
  const namespace = `ns-${d % NAMESPACES}`;
  const rs = `app-${d}-5b54bc4845`;
  replicaSets.set(`${namespace}/${rs}`, {
    metadata: {
      name: rs,
      namespace,
      uid: `rs-${d}`,
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "Deployment",
          name: `app-${d}`,
          uid: `dep-${d}`,
          controller: true,
        },
      ],
    },
  });
  pods.push({
    metadata: {
      name: `${rs}-${i.toString(36)}`,
      namespace,
      uid: `pod-${i}`,
      labels: { app: `app-${d}`, tier: "web" },
      annotations: {},
      creationTimestamp: new Date(Date.now() - 3_600_000),
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: rs, uid: `rs-${d}`, controller: true },
      ],
    },
    spec: { nodeName: `node-${i % 3}`, containers: [{ name: "c", image: "i" }] },
    status: { phase: "Running" },
  });
}
const lookup = (_k: string, ns: string, name: string) => replicaSets.get(`${ns}/${name}`);

function configFor(mode: string, value: number) {
  const r = loadConfig(`apiVersion: chaos-monkey.io/v1
kind: ChaosMonkeyConfig
safety: {maxKillsPerRound: 10000, maxPerOwner: 1000}
targets:
  - name: t
    kind: Pod
    schedule: "@hourly"
    mode: ${mode}
    value: ${value}
    selector: {labelSelector: "tier=web,app!=none", excludeNames: ["-canary-"], minAge: 1m}
`);
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.config;
}

function time(fn: () => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}
const pct = (xs: number[], p: number) =>
  xs[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? NaN;

const namespaces = new Map(
  Array.from({ length: NAMESPACES }, (_, i) => [
    `ns-${i}`,
    { name: `ns-${i}`, labels: {}, annotations: {} },
  ]),
);
console.log(
  `decision with ${PODS} eligible pods (${DEPLOYMENTS} Deployments, ${NAMESPACES} namespaces), ${RUNS} runs each`,
);
console.log(
  `machine: ${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}, node ${process.version}\n`,
);
console.log("step                                   p50 ms   p99 ms");
const build = time(() => pods.map((p) => podCandidate(p, lookup)));
console.log(
  `build candidates from pod JSON     ${pct(build, 50).toFixed(2).padStart(9)} ${pct(build, 99).toFixed(2).padStart(8)}`,
);
const candidates = pods.map((p) => podCandidate(p, lookup));
for (const [mode, value] of [
  ["one", 1],
  ["fixed", 100],
  ["fixed-percent", 10],
  ["all", 1],
] as const) {
  const config = configFor(mode, value);
  const target = config.targets[0];
  if (!target) throw new Error("no target");
  let victims = 0;
  const t = time(() => {
    const s = selectVictims({
      candidates,
      target,
      safety: config.safety,
      nowMs: Date.now(),
      namespaces,
      self: { namespace: "chaos-monkey", podName: undefined },
      rng: seedrandom("bench"),
      healthy: () => true,
    });
    victims = s.victims.length;
  });
  console.log(
    `selectVictims mode=${mode.padEnd(14)} ${pct(t, 50).toFixed(2).padStart(9)} ${pct(t, 99).toFixed(2).padStart(8)}   (${victims} victims)`,
  );
}
