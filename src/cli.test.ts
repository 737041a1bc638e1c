import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "./cli.js";
import { VERSION } from "./version.js";

async function cli(...argv: string[]) {
  return cliWith({}, ...argv);
}

async function cliWith(env: Record<string, string>, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, {
    env,
    io: { out: (s) => out.push(s), err: (s) => err.push(s) },
    stop: new AbortController().signal,
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const file = (text: string) => {
  const p = join(mkdtempSync(join(tmpdir(), "kcm-cli-")), "c.yaml");
  writeFileSync(p, text);
  return p;
};

describe("chaos-monkey command line", () => {
  it("--help lists every command and exits 0", async () => {
    const r = await cli("--help");
    expect(r.code).toBe(0);
    for (const c of ["run", "once", "plan", "validate"]) expect(r.out).toContain(c);
  });

  it.each(["run", "once", "plan", "validate"])(
    "%s --help teaches its flags and exits 0",
    async (cmd) => {
      const r = await cli(cmd, "--help");
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/Usage: chaos-monkey/);
      if (cmd !== "validate") expect(r.out).toContain("--kubeconfig");
      if (cmd === "once") expect(r.out).toContain("Exit codes: 0 all recovered");
    },
  );

  it("--version prints the package version", async () => {
    expect(await cli("--version")).toMatchObject({ code: 0, out: VERSION });
  });

  it("exits 2 on no command, an unknown command or a bad flag", async () => {
    expect((await cli()).code).toBe(2);
    expect((await cli("explode")).code).toBe(2);
    expect((await cli("plan", "--count", "zero")).code).toBe(2);
    expect((await cli("run", "--log-format", "xml")).code).toBe(2);
  });

  it("validate: 0 for valid files, 2 with every error and its line otherwise", async () => {
    const ok = await cli("validate", new URL("../config/example.yaml", import.meta.url).pathname);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/valid \(2 targets, dry run\)/);
    const bad = file(
      'apiVersion: chaos-monkey.io/v1\nkind: ChaosMonkeyConfig\ntargets:\n  - name: web\n    kind: Pod\n    schedule: "*/61 * * * *"\n    extra: 1\n',
    );
    const r = await cli("validate", bad);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      'targets[0].schedule: "*/61 * * * *" is not a valid cron expression (line 6)',
    );
    expect(r.err).toContain("targets[0].extra: is not a known key (line 7)");
  });

  it("validate: a missing file is an error naming it (exit 2)", async () => {
    const r = await cli("validate", "/nonexistent/config.yaml");
    expect(r.code).toBe(2);
    expect(r.err).toContain("/nonexistent/config.yaml");
    expect(r.err).toContain("ENOENT");
  });

  it.each(["run", "once", "plan"])(
    "%s with an invalid config exits 2 before touching a cluster",
    async (cmd) => {
      const r = await cli(
        cmd,
        "--config",
        file("apiVersion: chaos-monkey.io/v1\nkind: ChaosMonkeyConfig\ntargets: []\n"),
      );
      expect(r.code).toBe(2);
      expect(r.err).toContain("targets: must list at least one target");
    },
  );

  it("once --target with an unknown name is a usage error", async () => {
    const cfg = new URL("../config/example.yaml", import.meta.url).pathname;
    // The example's probes and sinks name environment variables a run must have.
    const env = { SLACK_WEBHOOK_URL: "http://127.0.0.1:9/x", AUDIT_TOKEN: "t", STORE_TOKEN: "t" };
    const r = await cliWith(env, "once", "--config", cfg, "--target", "nope");
    expect(r.code).toBe(2);
    expect(r.err).toContain('no target named "nope" (known: web, db-claims)');
  });

  it("once names a missing environment variable as a config error (exit 2)", async () => {
    const cfg = new URL("../config/example.yaml", import.meta.url).pathname;
    const r = await cli("once", "--config", cfg);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/needs environment variable SLACK_WEBHOOK_URL, which is not set/);
  });
});
