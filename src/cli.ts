// The command line (SPEC §4): parses arguments into typed options and makes one call per
// command. Exit codes: 0 ok, 1 runtime error, 2 bad config or usage, 3 not recovered (once).
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { DEFAULT_CONFIG_PATH, EXIT, UsageError } from "./commands/common.js";
import type { CommonOptions, Env, Io } from "./commands/common.js";
import { onceCommand } from "./commands/once.js";
import { parseRfc3339, planCommand } from "./commands/plan.js";
import { runCommand } from "./commands/run.js";
import { validateCommand } from "./commands/validate.js";
import { VERSION } from "./version.js";

export interface MainContext {
  readonly env: Env;
  readonly io: Io;
  /** Aborted on SIGTERM/SIGINT: `run` shuts down gracefully. */
  readonly stop: AbortSignal;
}

const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a whole number ≥ 1");
  return n;
};
const rfc3339 = (v: string): number => {
  const ms = parseRfc3339(v);
  if (ms === undefined)
    throw new InvalidArgumentError(
      `must be an RFC 3339 date-time such as 2026-03-29T00:30:00+01:00 (got "${v}")`,
    );
  return ms;
};
const collect = (v: string, prev: string[]) => [...prev, v];

function withCommon(cmd: Command, env: Env): Command {
  return cmd
    .option(
      "--config <file>",
      "config file (env CHAOS_MONKEY_CONFIG)",
      env.CHAOS_MONKEY_CONFIG ?? DEFAULT_CONFIG_PATH,
    )
    .option(
      "--kubeconfig <file>",
      "kubeconfig to use (default: in-cluster service account in a pod, else ~/.kube/config)",
    )
    .option("--context <name>", "kubeconfig context")
    .option(
      "--namespace <ns>",
      "the monkey's own namespace: always excluded, holds the Lease and the journal (default: its pod's; out of a cluster a live run must name it)",
    )
    .option(
      "--dry-run",
      "select and report victims but write nothing to the cluster (overrides the config)",
    )
    .option(
      "--seed <seed>",
      "seed for victim selection (default: the config's, else a new one per round; always logged)",
    )
    .option("--log-level <level>", "trace, debug, info, warn, error, fatal or silent", "info")
    .addOption(
      new Option("--log-format <format>", "log format").choices(["json", "pretty"]).default("json"),
    )
    .option("--listen <addr>", "HTTP address for /metrics, /healthz, /readyz (run)", ":8080");
}

export function buildProgram(ctx: MainContext, done: (code: Promise<number>) => void): Command {
  const program = new Command("chaos-monkey")
    .description(
      "Kills pods, PersistentVolumeClaims and PersistentVolumes on a schedule and measures how fast workloads recover.",
    )
    .version(VERSION, "--version")
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.out(s.trimEnd()),
      writeErr: (s) => ctx.io.err(s.trimEnd()),
    });

  withCommon(program.command("run"), ctx.env)
    .description(
      "run continuously: schedule every target, elect a leader, hot-reload the config, serve metrics",
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 after SIGTERM, 1 runtime failure, 2 bad config or usage at start.",
    )
    .action((opts: CommonOptions) => done(runCommand(opts, ctx.env, ctx.stop)));

  withCommon(program.command("once"), ctx.env)
    .description(
      "one round of each target now, wait for recovery, print a summary (the CronJob mode)",
    )
    .option("--target <name>", "only this target (repeatable)", collect, [])
    .addOption(
      new Option(
        "--output <format>",
        "summary format: a table, JSON, or JUnit XML for CI test reporters (a testcase per victim)",
      )
        .choices(["table", "json", "junit"])
        .default("table"),
    )
    .option("--force", "run even while paused or inside a blackout window")
    .option(
      "--lease-wait <seconds>",
      "how long to wait for the Lease when another chaos-monkey holds it (then exit 1)",
      positiveInt,
      60,
    )
    .addHelpText(
      "after",
      "\nIt holds and renews the Lease chaos-monkey in its namespace for as long as it acts, so it never\nacts beside a running Deployment or another once.\n\nExit codes: 0 all recovered or skipped, 3 any victim not recovered in time, not steady after the\nkill or over its recovery objective, 1 error (the Lease not had in time included), 2 bad config.\n\nExample:\n  chaos-monkey once --config config.yaml --namespace chaos-monkey --target web --output json",
    )
    .action(
      (
        opts: CommonOptions & {
          target: string[];
          output: "table" | "json" | "junit";
          force?: boolean;
          leaseWait: number;
        },
      ) =>
        done(
          onceCommand(
            { ...opts, force: opts.force ?? false, leaseWaitMs: opts.leaseWait * 1000 },
            ctx.env,
            ctx.io,
          ),
        ),
    );

  withCommon(program.command("plan"), ctx.env)
    .description(
      "read-only: next fire times per target, eligible objects now, and with --seed the victims a round would pick",
    )
    .option("--count <n>", "fire times to show per target", positiveInt, 5)
    .option(
      "--from <time>",
      "list fire times after this RFC 3339 instant instead of now (shown in each target's zone)",
      rfc3339,
    )
    .addHelpText(
      "after",
      "\nExample:\n  chaos-monkey plan --config config.yaml --count 3 --seed demo --from 2026-03-29T00:30:00+01:00",
    )
    .action((opts: CommonOptions & { count: number; from?: number }) =>
      done(planCommand({ ...opts, fromMs: opts.from }, ctx.env, ctx.io)),
    );

  program
    .command("validate")
    .description("check config files without a cluster; every error names its YAML path and line")
    .argument("<file...>", "config files")
    .addHelpText("after", "\nExit codes: 0 all valid, 2 any invalid.")
    .action((files: string[]) => done(Promise.resolve(validateCommand(files, ctx.io))));

  return program;
}

/** Runs the command line and returns the exit code; never throws. */
export async function main(argv: readonly string[], ctx: MainContext): Promise<number> {
  let result: Promise<number> = Promise.resolve(EXIT.usage);
  const program = buildProgram(ctx, (code) => {
    result = code;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    if (argv.length === 0) {
      ctx.io.err(program.helpInformation().trimEnd());
      return EXIT.usage;
    }
    return await result;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof UsageError) {
      ctx.io.err(`chaos-monkey: ${err.message}`);
      return EXIT.usage;
    }
    ctx.io.err(`chaos-monkey: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.error;
  }
}
