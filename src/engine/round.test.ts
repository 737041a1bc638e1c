import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config/load.js";
import type { Config } from "../config/types.js";
import { gate, roundId } from "./round.js";
import type { GateState } from "./round.js";

function config(patch: (text: string) => string = (t) => t): Config {
  const text = patch(readFileSync(new URL("../../config/example.yaml", import.meta.url), "utf8"));
  const r = loadConfig(text);
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.config;
}

const fine: GateState = { leader: true, inFlight: 0, synced: true };
// Example config: blackout on Sat/Sun, 18:00-09:00 and Dec 24 / 2026-12-31; web runs in Europe/Prague.
const WEDNESDAY_NOON_PRAGUE = Date.parse("2026-11-18T11:00:00Z");
const SATURDAY_NOON_PRAGUE = Date.parse("2026-11-21T11:00:00Z");
const WEDNESDAY_8_59_PRAGUE = Date.parse("2026-11-18T07:59:59Z");

describe("gate", () => {
  const base = config();
  const web = base.targets[0];
  if (!web) throw new Error("example has targets");
  it.each<
    [
      string,
      { cfg?: Config; tickMs?: number; state?: Partial<GateState>; force?: boolean },
      string | undefined,
    ]
  >([
    ["a normal tick runs", {}, undefined],
    ["paused", { cfg: config((t) => t.replace("paused: false", "paused: true")) }, "paused"],
    ["a weekend blackout", { tickMs: SATURDAY_NOON_PRAGUE }, "blackout"],
    ["a time-of-day blackout, to the second", { tickMs: WEDNESDAY_8_59_PRAGUE }, "blackout"],
    [
      "--force ignores paused and blackout",
      {
        cfg: config((t) => t.replace("paused: false", "paused: true")),
        tickMs: SATURDAY_NOON_PRAGUE,
        force: true,
      },
      undefined,
    ],
    ["not the leader", { state: { leader: false } }, "not_leader"],
    [
      "--force does not override leadership",
      { state: { leader: false }, force: true },
      "not_leader",
    ],
    ["recoveries in flight with concurrency Forbid", { state: { inFlight: 1 } }, "concurrency"],
    [
      "recoveries in flight with concurrency Allow",
      {
        cfg: config((t) => t.replace("concurrency: Forbid", "concurrency: Allow")),
        state: { inFlight: 3 },
      },
      undefined,
    ],
    ["a cache not synced", { state: { synced: false } }, "cache_unsynced"],
  ])("%s", (_what, x, expected) => {
    const cfg = x.cfg ?? base;
    const target = cfg.targets[0] ?? web;
    const req = {
      config: cfg,
      target,
      tickMs: x.tickMs ?? WEDNESDAY_NOON_PRAGUE,
      force: x.force ?? false,
    };
    expect(gate(req, { ...fine, ...x.state })).toBe(expected);
  });
});

describe("roundId", () => {
  it("names a round by its target and tick, to the second, the same on every replica", () => {
    expect(roundId("web", Date.parse("2026-11-21T04:52:56.789Z"))).toBe("web-20261121T045256Z");
  });
});
