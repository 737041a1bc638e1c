// Bundles the command into one file that runs with plain `node`, no node_modules beside it:
// the container image ships only this file.
//
//   npm run bundle        writes dist/bundle/chaos-monkey.mjs
import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Plugin } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const BUNDLE_PATH = fileURLToPath(
  new URL("../dist/bundle/chaos-monkey.mjs", import.meta.url),
);

// Dependencies written as CommonJS call require() for Node built-ins, which an ES module lacks.
const BANNER = [
  "#!/usr/bin/env node",
  'import { createRequire as __chaosMonkeyCreateRequire } from "node:module";',
  "const require = __chaosMonkeyCreateRequire(import.meta.url);",
].join("\n");

/**
 * src/version.ts reads ../package.json at run time, which is not there beside a lone bundle;
 * the bundle gets the version as a constant instead.
 */
function versionConstant(version: string): Plugin {
  return {
    name: "version-constant",
    setup(b) {
      b.onLoad({ filter: /[\\/]src[\\/]version\.ts$/ }, () => ({
        contents: `export const VERSION = ${JSON.stringify(version)};\n`,
        loader: "ts",
      }));
    },
  };
}

export interface BundleResult {
  readonly path: string;
  readonly bytes: number;
}

export async function bundle(outfile: string = BUNDLE_PATH): Promise<BundleResult> {
  const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, "utf8")) as { version: string };
  await build({
    absWorkingDir: ROOT,
    entryPoints: ["src/main.ts"],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    banner: { js: BANNER },
    plugins: [versionConstant(pkg.version)],
    // Names stay readable in stack traces; the size saved by minifying does not matter here.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: "none",
    logLevel: "warning",
  });
  return { path: outfile, bytes: statSync(outfile).size };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await bundle();
  console.log(`${out.path}: ${(out.bytes / 1024 / 1024).toFixed(2)} MiB`);
}
