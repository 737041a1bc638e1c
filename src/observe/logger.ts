// One place builds the logger. Output is synchronous in both formats so the last lines before
// process.exit() are never lost, and pretty printing runs in-process (no worker thread), which
// also keeps it working inside a single-file bundle.
import { pino } from "pino";
import type { DestinationStream, Logger as PinoLogger } from "pino";
import { isColorSupported, prettyFactory } from "pino-pretty";

export type Logger = PinoLogger;
export type LogFormat = "json" | "pretty";

export interface LoggerOptions {
  level: string;
  format: LogFormat;
  /** Defaults to stdout (synchronous writes). */
  destination?: NodeJS.WritableStream | DestinationStream;
}

const LEVELS = new Set([...Object.keys(pino.levels.values), "silent"]);

export function createLogger(opts: LoggerOptions): Logger {
  if (!LEVELS.has(opts.level)) {
    throw new Error(
      `invalid log level ${JSON.stringify(opts.level)}: expected one of ${[...LEVELS].join(", ")}`,
    );
  }
  const out: DestinationStream = opts.destination ?? pino.destination({ dest: 1, sync: true });
  const stream = opts.format === "pretty" ? prettyStream(out, opts.destination === undefined) : out;
  return pino({ level: opts.level, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}

/** Turns each JSON line into human text as it is written, with no buffering in between. */
function prettyStream(out: DestinationStream, toTerminal: boolean): DestinationStream {
  const prettify = prettyFactory({
    colorize: toTerminal && isColorSupported,
    ignore: "pid,hostname",
  });
  return { write: (line: string) => out.write(prettify(line)) };
}
