// chaos-monkey validate FILE...: check configs without a cluster (exit 0 valid, 2 invalid).
import { loadConfig, requiredEnv } from "../config/load.js";
import { EXIT, readConfigText } from "./common.js";
import type { Io } from "./common.js";

export function validateCommand(files: readonly string[], io: Io): number {
  let invalid = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readConfigText(file);
    } catch (err) {
      io.err(`${file}: ${(err as Error).message}`);
      invalid++;
      continue;
    }
    const result = loadConfig(text);
    if (result.ok) {
      const needs = requiredEnv(result.config);
      io.out(
        `${file}: valid (${result.config.targets.length} target${result.config.targets.length === 1 ? "" : "s"}${result.config.dryRun ? ", dry run" : ""})${needs.length ? `; a run needs the environment variables ${needs.join(", ")}` : ""}`,
      );
    } else {
      invalid++;
      for (const e of result.errors) io.err(`${file}: ${e}`);
    }
  }
  return invalid === 0 ? EXIT.ok : EXIT.usage;
}
