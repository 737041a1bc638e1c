// Starts (or reuses) the local control plane once per e2e run and hands its kubeconfig to every
// test file. A cluster this run started is stopped at the end unless KCM_KEEP_CLUSTER=1.
import { execFileSync } from "node:child_process";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfig: string;
    bindir: string;
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

export default function setup(project: TestProject): () => void {
  const bindir =
    execFileSync("bash", [script("build-binaries.sh")], { encoding: "utf8" })
      .trim()
      .split("\n")
      .pop() ?? "";
  // The kubectl built with the cluster comes first, for the tests and for anything they spawn.
  process.env.PATH = `${bindir}:${process.env.PATH ?? ""}`;
  project.provide("bindir", bindir);
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
