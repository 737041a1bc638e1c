// Process entry: signals, environment and exit code are handled here and nowhere else.
import { main } from "./cli.js";

const stop = new AbortController();
let signals = 0;
for (const sig of ["SIGTERM", "SIGINT"] as const)
  process.on(sig, () => {
    // The first signal shuts down gracefully; a second one does not wait.
    if (++signals > 1) process.exit(1);
    stop.abort();
  });

const code = await main(process.argv.slice(2), {
  env: process.env,
  io: { out: (s) => process.stdout.write(`${s}\n`), err: (s) => process.stderr.write(`${s}\n`) },
  stop: stop.signal,
});
process.exitCode = code;
// Watches and sockets are closed by the commands; exit promptly even if a library keeps a handle.
setTimeout(() => process.exit(code), 2000).unref();
