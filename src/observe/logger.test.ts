import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import { LOG } from "./messages.js";

/** Collects what the logger writes; pino writes synchronously, so no waiting is needed. */
function memory(): {
  stream: Writable;
  text: () => string;
  lines: () => Record<string, unknown>[];
} {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const text = (): string => chunks.join("");
  const lines = (): Record<string, unknown>[] =>
    text()
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, text, lines };
}

describe("createLogger (json)", () => {
  it("writes one JSON object per line with an ISO timestamp and data in fields", () => {
    const out = memory();
    const log = createLogger({ level: "info", format: "json", destination: out.stream });
    log.info({ target: "web", victim: 3 }, LOG.KILLING);
    const [line, ...rest] = out.lines();
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ level: 30, msg: LOG.KILLING, target: "web", victim: 3 });
    expect(typeof line?.time).toBe("string");
    expect(new Date(line?.time as string).toISOString()).toBe(line?.time);
  });

  it.each([
    ["trace", ["trace", "debug", "info", "warn", "error"]],
    ["debug", ["debug", "info", "warn", "error"]],
    ["info", ["info", "warn", "error"]],
    ["warn", ["warn", "error"]],
    ["error", ["error"]],
    ["silent", []],
  ])("level %s keeps only %j", (level, kept) => {
    const out = memory();
    const log = createLogger({ level, format: "json", destination: out.stream });
    for (const method of ["trace", "debug", "info", "warn", "error"] as const) log[method](method);
    expect(out.lines().map((l) => l.msg)).toEqual(kept);
  });

  it("puts round, target and seed on every line of a child logger", () => {
    const out = memory();
    const log = createLogger({ level: "debug", format: "json", destination: out.stream });
    const round = log.child({ round: "r-17", target: "web", seed: "42" });
    round.debug("selecting");
    round.info({ victim: "a" }, LOG.KILLING);
    round.warn({ err: new Error("boom") }, LOG.KILL_FAILED);
    log.info("unrelated");
    const lines = out.lines();
    expect(lines).toHaveLength(4);
    for (const line of lines.slice(0, 3)) {
      expect(line).toMatchObject({ round: "r-17", target: "web", seed: "42" });
    }
    expect(lines[2]).toMatchObject({ err: { message: "boom", type: "Error" } });
    expect(lines[3]).not.toHaveProperty("round");
  });

  it("rejects an unknown level, naming it", () => {
    const out = memory();
    expect(() => createLogger({ level: "loud", format: "json", destination: out.stream })).toThrow(
      /"loud"/,
    );
  });
});

describe("createLogger (pretty)", () => {
  it("writes human-readable text, not JSON", () => {
    const out = memory();
    const log = createLogger({ level: "info", format: "pretty", destination: out.stream });
    log.info({ target: "web", round: "r-1" }, LOG.KILLING);
    const text = out.text();
    expect(text).toContain("INFO");
    expect(text).toContain(LOG.KILLING);
    expect(text).toContain('target: "web"');
    expect(() => JSON.parse(text) as unknown).toThrow();
    // Written to a non-terminal stream, so no colour codes.
    expect(text).not.toContain("\u001b[");
  });

  it("filters by level and shows child bindings", () => {
    const out = memory();
    const log = createLogger({ level: "warn", format: "pretty", destination: out.stream });
    const child = log.child({ round: "r-9", target: "db", seed: "7" });
    child.info("quiet");
    child.warn("loud");
    const text = out.text();
    expect(text).not.toContain("quiet");
    expect(text).toContain("loud");
    expect(text).toContain('round: "r-9"');
    expect(text).toContain('seed: "7"');
  });
});
