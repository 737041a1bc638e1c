import { mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { watchConfigFile } from "./reload.js";
import type { Config } from "./types.js";

const EXAMPLE = readFileSync(new URL("../../config/example.yaml", import.meta.url), "utf8");
const INVALID = [
  ["truncated YAML", 'apiVersion: chaos-monkey.io/v1\ntargets:\n  - name: "web\n'],
  ["a bad cron", EXAMPLE.replace('"*/10 * * * *"', '"*/61 * * * *"')],
  ["a wrong type", EXAMPLE.replace("paused: false", "paused: 3")],
  ["an unknown key", EXAMPLE.replace("paused: false", "pasued: false")],
  ["an empty file", ""],
] as const;

let close: (() => void) | undefined;
afterEach(() => close?.());

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "kcm-reload-"));
  const path = join(dir, "config.yaml");
  writeFileSync(path, EXAMPLE);
  const configs: Config[] = [];
  const invalid: (readonly string[])[] = [];
  const w = watchConfigFile(path, EXAMPLE, {
    onConfig: (c) => void configs.push(c),
    onInvalid: (e) => void invalid.push(e),
    debounceMs: 20,
  });
  close = () => w.close();
  return { dir, path, configs, invalid };
}

const settle = async (pred: () => boolean) => {
  for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe("watchConfigFile", () => {
  it.each(INVALID)(
    "rejects %s and hands over nothing; a fixed file is then picked up",
    async (_what, text) => {
      const { path, configs, invalid } = setup();
      writeFileSync(path, text);
      await settle(() => invalid.length > 0);
      expect(invalid.length).toBe(1);
      expect(invalid[0]?.length).toBeGreaterThan(0);
      expect(configs).toEqual([]);
      writeFileSync(path, EXAMPLE.replace("paused: false", "paused: true"));
      await settle(() => configs.length > 0);
      expect(configs.map((c) => c.paused)).toEqual([true]);
    },
  );

  it("follows a ConfigMap-style atomic swap in the directory", async () => {
    const { dir, path, configs } = setup();
    const staged = join(dir, "..data_tmp");
    writeFileSync(staged, EXAMPLE.replace("dryRun: true", "dryRun: false"));
    renameSync(staged, path);
    await settle(() => configs.length > 0);
    expect(configs.map((c) => c.dryRun)).toEqual([false]);
  });

  it("ignores rewrites that change nothing", async () => {
    const { path, configs, invalid } = setup();
    writeFileSync(path, EXAMPLE);
    await new Promise((r) => setTimeout(r, 150));
    expect(configs).toEqual([]);
    expect(invalid).toEqual([]);
  });
});
