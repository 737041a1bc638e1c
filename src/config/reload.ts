// Hot reload (SPEC §4): watch the config file's directory (a mounted ConfigMap swaps a symlink
// there rather than writing the file), and hand over each new valid config. An invalid one is
// reported and dropped: the caller keeps the last good config in force.
import { watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { Env } from "./env.js";
import { loadConfig } from "./load.js";
import type { Config } from "./types.js";

export interface ReloadHandlers {
  readonly onConfig: (config: Config) => Promise<void> | void;
  readonly onInvalid: (errors: readonly string[]) => void;
  /** Debounce for bursts of file events (editors and kubelet write in several steps). */
  readonly debounceMs?: number;
  /** For `${NAME}` in probes and sinks, as at start. */
  readonly env?: Env;
}

export function watchConfigFile(
  path: string,
  initialText: string,
  h: ReloadHandlers,
): { close(): void } {
  let last = initialText;
  let timer: NodeJS.Timeout | undefined;
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
    clearTimeout(timer);
    timer = setTimeout(() => {
      // Reloads run one after another, never interleaved.
      chain = chain.then(check, check);
    }, h.debounceMs ?? 200);
  });
  return {
    close: () => {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
