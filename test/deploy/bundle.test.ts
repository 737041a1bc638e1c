// The single-file bundle the image ships: it must run with nothing beside it (no node_modules,
// no package.json), as it does in the distroless image.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundle } from "../../scripts/bundle.js";

const ROOT = new URL("../..", import.meta.url);
const VERSION = (
  JSON.parse(readFileSync(new URL("package.json", ROOT), "utf8")) as { version: string }
).version;

describe("dist/bundle/chaos-monkey.mjs, alone in a directory", () => {
  let dir = "";
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [join(dir, "chaos-monkey.mjs"), ...args], {
      cwd: dir,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "" },
      timeout: 20_000,
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kcm-bundle-"));
    // Built fresh from the current source each time, so the test never checks a stale bundle
    // nor depends on `npm run bundle` having run first.
    const built = await bundle(join(dir, "build", "chaos-monkey.mjs"));
    copyFileSync(built.path, join(dir, "chaos-monkey.mjs"));
    rmSync(join(dir, "build"), { recursive: true });
    copyFileSync(new URL("config/example.yaml", ROOT), join(dir, "example.yaml"));
  }, 60_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("prints its version", () => {
    const r = run("--version");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it("prints its help", () => {
    const r = run("--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Usage: chaos-monkey");
  });

  it("validates a config: 0 when valid, 2 with the error's line when not", () => {
    const ok = run("validate", "example.yaml");
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain("example.yaml: valid");
    writeFileSync(
      join(dir, "bad.yaml"),
      'apiVersion: chaos-monkey.io/v1\nkind: ChaosMonkeyConfig\ntargets:\n  - name: web\n    kind: Pod\n    schedule: "*/61 * * * *"\n',
    );
    const bad = run("validate", "bad.yaml");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("(line 6)");
  });
});
