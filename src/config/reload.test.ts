import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../clock.js";
import { watchConfigFile } from "./reload.js";
import type { Config } from "./types.js";

// The watcher's reads, observed (the real readFile still does the reading): "nothing was handed
// over" is only evidence once the watcher has read the file and compared it.
vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs/promises")>();
  return { ...actual, readFile: vi.fn(actual.readFile) };
});
const reads = vi.mocked(readFile);

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
    clock: systemClock, // the file system's events come in real time
  });
  close = () => w.close();
  return { dir, path, configs, invalid };
}

/**
 * Replaces the file in one step (write aside, rename over it), as editors and the kubelet do. An
 * in-place write truncates first: on a busy machine its events can straddle the 20 ms debounce and
 * the watcher then reads an empty file in between, which is a real answer to a real state, not
 * the one these tests are about.
 */
function replaceFile(path: string, text: string): void {
  const aside = `${path}.tmp`; // another name in the directory: the watcher ignores its events
  writeFileSync(aside, text);
  renameSync(aside, path);
}

/**
 * Waits for `pred` and fails if it does not hold within `timeoutMs`: the bound is only there to
 * end a real miss (an event never seen), so it is far beyond the 20 ms debounce.
 */
async function settle(what: string, pred: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits until the watcher has read the file `n` more times and finished with what it read. */
async function readsDone(before: number, n = 1): Promise<void> {
  await settle(`${n} read(s) of the config file`, () => reads.mock.results.length >= before + n);
  // Each read's promise, then a macrotask: the comparison and any handler call that follow a
  // read run synchronously after it resolves.
  await Promise.allSettled(
    reads.mock.results.slice(before).map((r) => r.value as Promise<unknown>),
  );
  await new Promise((r) => setImmediate(r));
}

describe("watchConfigFile", () => {
  it.each(INVALID)(
    "rejects %s and hands over nothing; a fixed file is then picked up",
    async (_what, text) => {
      const { path, configs, invalid } = setup();
      replaceFile(path, text);
      await settle("the invalid file reported", () => invalid.length > 0);
      expect(invalid.length).toBe(1);
      expect(invalid[0]?.length).toBeGreaterThan(0);
      expect(configs).toEqual([]);
      replaceFile(path, EXAMPLE.replace("paused: false", "paused: true"));
      await settle("the fixed file handed over", () => configs.length > 0);
      expect(configs.map((c) => c.paused)).toEqual([true]);
      expect(invalid.length).toBe(1);
    },
  );

  it("follows a ConfigMap-style atomic swap in the directory", async () => {
    const { dir, path, configs } = setup();
    const staged = join(dir, "..data_tmp");
    writeFileSync(staged, EXAMPLE.replace("dryRun: true", "dryRun: false"));
    renameSync(staged, path);
    await settle("the swapped file handed over", () => configs.length > 0);
    expect(configs.map((c) => c.dryRun)).toEqual([false]);
  });

  it("ignores rewrites that change nothing", async () => {
    const { path, configs, invalid } = setup();
    const before = reads.mock.results.length;
    replaceFile(path, EXAMPLE);
    // The cause, not a pause: the watcher did see the rewrite and read the file back...
    await readsDone(before);
    // ...and, having compared it with what it holds, handed nothing over.
    expect(configs).toEqual([]);
    expect(invalid).toEqual([]);
    // Not blind either: a real change after it is handed over, and only that one.
    replaceFile(path, EXAMPLE.replace("paused: false", "paused: true"));
    await settle("the changed file handed over", () => configs.length > 0);
    expect(configs.map((c) => c.paused)).toEqual([true]);
    expect(invalid).toEqual([]);
  });
});

describe("a ConfigMap volume's layout (the kubelet's atomic swap)", () => {
  // KWOK runs no kubelet, so this plays what the kubelet's AtomicWriter does for a ConfigMap
  // volume: the file is a symlink into ..data, itself a symlink to a timestamped directory; an
  // update writes a new directory, points ..data_tmp at it and renames ..data_tmp over ..data.
  it("picks up the new config when ..data is swapped, and nothing before", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kcm-cm-"));
    mkdirSync(join(dir, "..2026_12_02_01_00_00.1"));
    writeFileSync(join(dir, "..2026_12_02_01_00_00.1", "config.yaml"), EXAMPLE);
    symlinkSync("..2026_12_02_01_00_00.1", join(dir, "..data"));
    symlinkSync("..data/config.yaml", join(dir, "config.yaml"));
    const path = join(dir, "config.yaml");
    const configs: Config[] = [];
    const loaded = new Promise<void>((resolve) => {
      const w = watchConfigFile(path, EXAMPLE, {
        onConfig: (c) => {
          configs.push(c);
          resolve();
        },
        onInvalid: () => undefined,
        debounceMs: 20,
        clock: systemClock,
      });
      close = () => w.close();
    });
    const next = EXAMPLE.replace("paused: false", "paused: true");
    mkdirSync(join(dir, "..2026_12_02_01_05_00.2"));
    writeFileSync(join(dir, "..2026_12_02_01_05_00.2", "config.yaml"), next);
    expect(configs).toEqual([]); // a new directory alone changes nothing the file shows
    symlinkSync("..2026_12_02_01_05_00.2", join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    rmSync(join(dir, "..2026_12_02_01_00_00.1"), { recursive: true });
    await Promise.race([
      loaded,
      new Promise((_, reject) => setTimeout(() => reject(new Error("no reload in 10 s")), 10_000)),
    ]);
    expect(configs.map((c) => c.paused)).toEqual([true]);
  }, 15_000);
});
