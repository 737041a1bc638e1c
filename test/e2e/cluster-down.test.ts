// cluster:down leaves nothing behind. Uses a second, throwaway cluster so the shared one that the
// other test files use keeps running.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { listeningPorts, pidsMentioning, portsOf } from "../support/procs.js";

const script = (name: string) => new URL(`../cluster/${name}`, import.meta.url).pathname;

it("cluster:down stops every process and frees every port the cluster had", () => {
  const name = `e2e-down-${randomBytes(3).toString("hex")}`;
  const env = { ...process.env, KCM_CLUSTER_NAME: name };
  const kubeconfig =
    execFileSync("bash", [script("up.sh")], {
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    })
      .trim()
      .split("\n")
      .pop() ?? "";
  const clusterDir = kubeconfig.replace(/\/kubeconfig\.yaml$/, "");
  expect(existsSync(kubeconfig)).toBe(true);
  const pids = pidsMentioning(clusterDir);
  const ports = portsOf(pids);
  // etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok all ran and listened.
  expect(pids.length).toBeGreaterThanOrEqual(5);
  expect(ports.length).toBeGreaterThanOrEqual(4);

  execFileSync("bash", [script("down.sh")], { env, stdio: "inherit" });

  expect(pidsMentioning(clusterDir)).toEqual([]);
  const stillListening = new Set(listeningPorts().values());
  expect(ports.filter((p) => stillListening.has(p))).toEqual([]);
  expect(existsSync(clusterDir)).toBe(false);
}, 300_000);
