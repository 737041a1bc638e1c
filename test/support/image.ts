// What the container image runs, read from the Dockerfile, so tests and the benchmark run the
// production bundle the way the image does (there is no Docker engine here to run the image).
import { readFileSync } from "node:fs";

const DOCKERFILE = new URL("../../Dockerfile", import.meta.url);

/** The image's `ENV NODE_OPTIONS=...` (V8 flags the bundle runs with), or "". */
export function imageNodeOptions(): string {
  const value = /^ENV NODE_OPTIONS=(.*)$/m.exec(readFileSync(DOCKERFILE, "utf8"))?.[1]?.trim();
  return value?.replace(/^"(.*)"$/, "$1") ?? "";
}

/** The Node version of the image's build stage, whose binary the runtime stage copies. */
export function imageNodeVersion(): string | undefined {
  return /^FROM node:(\d+\.\d+\.\d+)-/m.exec(readFileSync(DOCKERFILE, "utf8"))?.[1];
}
