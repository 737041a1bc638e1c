// Hot reload (SPEC §4): watch the config file's directory (a mounted ConfigMap swaps a symlink
// there rather than writing the file), and hand over each new valid config. An invalid one is
// reported and dropped: the caller keeps the last good config in force.
import { watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { Clock } from "../clock.js";
import type { Env } from "./env.js";
import { loadConfig } from "./load.js";
import type { Config } from "./types.js";

export interface ReloadHandlers {
  readonly onConfig: (config: Config) => Promise<void> | void;
  readonly onInvalid: (errors: readonly string[]) => void;
  /** Debounce for bursts of file events (editors and kubelet write in several steps). */
  readonly debounceMs?: number;
  readonly clock: Clock;
  /** For `${NAME}` in probes and sinks, as at start. */
  readonly env?: Env;
}

export function watchConfigFile(
  path: string,
  initialText: string,
  h: ReloadHandlers,
): { close(): void } {
  let last = initialText;
  /** The debounce under way: a new file event cancels it and starts another. */
  let pending: AbortController | undefined;
  let chain: Promise<void> = Promise.resolve();
  const check = async () => {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      h.onInvalid([`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
      return;
    }
    if (text === last) return;
    last = text;
    const result = loadConfig(text, h.env);
    if (result.ok) await h.onConfig(result.config);
    else h.onInvalid(result.errors);
  };
  const name = basename(path);
  const watcher: FSWatcher = watch(dirname(path), (_event, file) => {
    // ConfigMap volumes change "..data"; plain files change by name.
    if (file !== null && file !== name && !file.startsWith("..")) return;
    pending?.abort();
    const debounce = (pending = new AbortController());
    h.clock.sleep(h.debounceMs ?? 200, debounce.signal).then(
      // Reloads run one after another, never interleaved.
      () => void (chain = chain.then(check, check)),
      () => undefined, // a later event took over, or the watch closed
    );
  });
  return {
    close: () => {
      pending?.abort();
      watcher.close();
    },
  };
}
