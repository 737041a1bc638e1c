// The first errors a user meets (issue 15), through the real CLI: each is one line naming the
// thing, the cause and what to try, with exit code 1 (2 for usage), and nothing else on stderr.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { parse, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { HttpProxy, upstreamOf } from "../support/http-proxy.js";
import { asIdentity, chaosConfig, freePort, runMonkey, viaServer } from "../support/monkey.js";
import { TcpProxy } from "../support/proxy.js";
import { e2eSuite } from "../support/suite.js";

const t = e2eSuite("e2e-cli-err", { workloads: false });
const cfg = () => chaosConfig([{ name: "web", kind: "Pod", schedule: "@hourly" }]);

interface KubeconfigFile {
  clusters: { cluster: Record<string, unknown> }[];
  users: { user: Record<string, unknown> }[];
}

/** A copy of `id`'s kubeconfig with `edit` applied to its parsed YAML. */
function editedKubeconfig(edit: (k: KubeconfigFile) => void): string {
  const k = parse(readFileSync(t.id.kubeconfig, "utf8")) as KubeconfigFile;
  edit(k);
  const path = join(mkdtempSync(join(tmpdir(), "kcm-e2e-")), "kubeconfig.yaml");
  writeFileSync(path, stringify(k));
  return path;
}

async function once(kubeconfig: string, extra: string[] = []) {
  const r = await runMonkey([
    "once",
    "--config",
    cfg(),
    "--kubeconfig",
    kubeconfig,
    "--namespace",
    t.selfNs,
    ...extra,
  ]);
  return { ...r, lines: r.stderr.split("\n").filter(Boolean) };
}

describe("the first errors a user meets", () => {
  it("an API server that refuses connections: names the server, the cause and the user", async () => {
    const port = await freePort();
    const r = await once(viaServer(t.id, `https://127.0.0.1:${port}`).kubeconfig);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([
      `chaos-monkey: cannot reach the API server at https://127.0.0.1:${port}: connection refused (as chaos-monkey): is the cluster running? (check --kubeconfig and --context)`,
    ]);
  });

  it("an API server that never answers: says how long it waited", async () => {
    const proxy = await TcpProxy.start(t.kube.kc.getCurrentCluster()?.server ?? "");
    proxy.freeze();
    try {
      const r = await once(viaServer(t.id, proxy.url).kubeconfig);
      expect(r.code).toBe(1);
      expect(r.lines).toHaveLength(1);
      expect(r.lines[0]).toMatch(
        /^chaos-monkey: the API server at https:\/\/127\.0\.0\.1:\d+ did not answer within 10s \(as chaos-monkey\)/,
      );
    } finally {
      proxy.thaw();
      await proxy.close();
    }
  }, 60_000);

  it("a server certificate the kubeconfig does not trust: says TLS and what to check", async () => {
    const cluster = t.kube.kc.getCurrentCluster();
    if (!cluster) throw new Error("no cluster");
    const other = await HttpProxy.start(upstreamOf(cluster));
    try {
      // The real API server, but the CA of another server.
      const path = editedKubeconfig((k) => {
        for (const c of k.clusters) {
          delete c.cluster["certificate-authority"];
          c.cluster["certificate-authority-data"] = other.caData;
        }
      });
      const r = await once(path);
      expect(r.code).toBe(1);
      expect(r.lines).toHaveLength(1);
      expect(r.lines[0]).toMatch(
        /^chaos-monkey: TLS with the API server at https:\/\/127\.0\.0\.1:\d+ failed: \S+: the kubeconfig's certificate-authority/,
      );
    } finally {
      await other.close();
    }
  });

  it("credentials the server refuses (401): names the user", async () => {
    const path = editedKubeconfig((k) => {
      for (const u of k.users) u.user = { token: "not-a-valid-token" };
    });
    const r = await once(path);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([
      expect.stringMatching(
        /^chaos-monkey: the API server at \S+ refused the credentials of chaos-monkey \(401 Unauthorized\): the token or client certificate is wrong or expired/,
      ),
    ]);
  });

  it("an unreadable kubeconfig: names the file and why", async () => {
    const r = await once("/nonexistent/kubeconfig.yaml");
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([
      "chaos-monkey: cannot read kubeconfig /nonexistent/kubeconfig.yaml: no such file (ENOENT); pass --kubeconfig with a readable kubeconfig file",
    ]);
  });

  it("a --context the kubeconfig does not have: lists the ones it has", async () => {
    const r = await once(t.id.kubeconfig, ["--context", "prod"]);
    expect(r.code).toBe(1);
    expect(r.lines).toEqual([
      `chaos-monkey: context prod is not in ${t.id.kubeconfig} (contexts: local)`,
    ]);
  });

  it("--context picks the kubeconfig's other context (the current one points at nothing)", async () => {
    const port = await freePort();
    const path = editedKubeconfig((k) => {
      const real = k.clusters[0];
      const ctx = (
        k as unknown as { contexts: { name: string; context: Record<string, unknown> }[] }
      ).contexts[0];
      if (!real || !ctx) throw new Error("no cluster or context");
      k.clusters.push({
        ...real,
        name: "dead",
        cluster: { ...real.cluster, server: `https://127.0.0.1:${port}` },
      } as never);
      (k as unknown as { contexts: unknown[] }).contexts.push({
        name: "dead",
        context: { ...ctx.context, cluster: "dead" },
      });
      (k as unknown as Record<string, unknown>)["current-context"] = "dead";
    });
    const dry = ["--dry-run", "--output", "json"];
    const dead = await once(path, dry);
    expect(dead.code).toBe(1);
    expect(dead.lines[0]).toMatch(/connection refused/);
    const live = await once(path, ["--context", "local", ...dry]);
    expect(live.code, live.stderr).toBe(0);
  });

  it("a --target that names no target: usage (exit 2), listing the targets", async () => {
    const r = await runMonkey([
      "once",
      "--config",
      cfg(),
      ...asIdentity(t.id, t.selfNs),
      "--target",
      "wbe",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n").filter(Boolean)).toEqual([
      'chaos-monkey: no target named "wbe" (known: web)',
    ]);
  });
});
