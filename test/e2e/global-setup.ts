// Starts (or reuses) the local control plane once per e2e run and hands its kubeconfig to every
// test file. A cluster this run started is stopped at the end unless KCM_KEEP_CLUSTER=1.
import { execFileSync } from "node:child_process";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfig: string;
    bindir: string;
    /** Prometheus 3's prometheus and promtool, built from Go modules (build-prometheus.sh). */
    prometheusBindir: string;
    auditLog: string;
  }
}

const script = (name: string) => new URL(`../cluster/${name}`, import.meta.url).pathname;

function clusterRunning(): boolean {
  try {
    execFileSync("bash", [script("status.sh")], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** The last line a build script prints: its bin directory. */
const built = (name: string) =>
  execFileSync("bash", [script(name)], { encoding: "utf8" })
    .trim()
    .split("\n")
    .pop() ?? "";

export default function setup(project: TestProject): () => void {
  const bindir = built("build-binaries.sh");
  const prometheusBindir = built("build-prometheus.sh");
  // The kubectl built with the cluster and the Prometheus 3 built for the monitoring tests come
  // first, for the tests and for anything they spawn.
  process.env.PATH = `${bindir}:${prometheusBindir}:${process.env.PATH ?? ""}`;
  project.provide("bindir", bindir);
  project.provide("prometheusBindir", prometheusBindir);
  const wasRunning = clusterRunning();
  const out = execFileSync("bash", [script("up.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const kubeconfig = out.trim().split("\n").pop() ?? "";
  project.provide("kubeconfig", kubeconfig);
  project.provide("auditLog", kubeconfig.replace(/kubeconfig\.yaml$/, "logs/audit.log"));
  // The e2e tests run the real command (bin/chaos-monkey.js → dist/): build it fresh.
  execFileSync(
    process.execPath,
    [
      new URL("../../node_modules/typescript/bin/tsc", import.meta.url).pathname,
      "-p",
      "tsconfig.build.json",
    ],
    {
      stdio: "inherit",
      cwd: new URL("../..", import.meta.url).pathname,
    },
  );
  return () => {
    if (!wasRunning && process.env.KCM_KEEP_CLUSTER !== "1")
      execFileSync("bash", [script("down.sh")], { stdio: "inherit" });
  };
}
