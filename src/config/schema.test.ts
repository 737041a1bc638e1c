// config/schema.json against the code: it is exactly what scripts/gen-schema.ts writes, and it
// agrees with loadConfig on config/example.yaml and every file under config/fixtures, except for
// the listed rules only the validator can check.
import { readdirSync, readFileSync } from "node:fs";
import { Ajv } from "ajv";
import fc from "fast-check";
import { parseDocument } from "yaml";
import { describe, expect, it } from "vitest";
import {
  generateSchema,
  PATTERNS,
  renderSchema,
  SCHEMA_PATH,
  schemaAt,
} from "../../scripts/gen-schema.js";
import { parseBlackoutDate, parseTimeRange, parseWeekday } from "../schedule/blackout.js";
import { parseSchedule } from "../schedule/cron.js";
import { parseDuration } from "../schedule/duration.js";
import { parseFieldSelector, SELECTABLE_FIELDS, unselectableFields } from "../selectors/labels.js";
import { loadConfig } from "./load.js";
import { SYSTEM_NAMESPACES } from "./resolve.js";
import { headerValueError, sinkUrlError } from "./schema.js";

const CONFIG_DIR = new URL("../../config/", import.meta.url);

interface Fixture {
  readonly name: string;
  readonly text: string;
}

function fixtures(dir: "valid" | "invalid"): Fixture[] {
  const url = new URL(`fixtures/${dir}/`, CONFIG_DIR);
  return readdirSync(url)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((name) => ({ name, text: readFileSync(new URL(name, url), "utf8") }));
}

const EXAMPLE: Fixture = {
  name: "example.yaml",
  text: readFileSync(new URL("example.yaml", CONFIG_DIR), "utf8"),
};
const VALID = [EXAMPLE, ...fixtures("valid")];
const INVALID = fixtures("invalid");

/**
 * Invalid fixtures that break only a rule JSON Schema cannot state, so ajv accepts them while
 * loadConfig rejects them. The test checks both halves: a fixture that leaves this list (the
 * schema learned the rule) or joins it (the schema lost one) fails until the list is updated.
 */
const REFINEMENT_ONLY: ReadonlyMap<string, string> = new Map([
  // cron-parser decides which field values exist; the pattern only checks the field count.
  ["cron-step-too-large.yaml", 'a step larger than the field ("*/61 * * * *")'],
  ["cron-value-out-of-range.yaml", 'a value outside the field ("0 25 * * *")'],
  ["cron-hashed.yaml", 'Jenkins-style hashed values ("H * * * *")'],
  ["every-below-one-second.yaml", "the 1s minimum of @every"],
  // Needs a comparison or arithmetic no pattern does.
  ["duration-not-whole-ms.yaml", 'whole milliseconds ("1.5ms")'],
  ["empty-time-range.yaml", 'start ≠ end of a time range ("09:00-09:00")'],
  ["date-not-in-year.yaml", 'leap years ("2027-02-29")'],
  // Needs a lookup or a parser.
  ["bad-timezone.yaml", "IANA time zone names"],
  ["bad-regex.yaml", "regular expression syntax"],
  ["regex-lookahead.yaml", "what RE2 supports"],
  ["bad-label-selector.yaml", "label selector syntax"],
  ["notify-url-userinfo.yaml", 'URL parsing ("https://user:secret@host")'],
  // Needs comparing list items by one field.
  ["duplicate-target-names.yaml", "unique target names"],
  ["notify-duplicate-names.yaml", "unique sink names"],
]);

// strict: the schema must also compile for the strictest consumer (no unknown keywords, no
// type-less constraints); strictNumbers (part of strict) keeps .inf and .nan from being numbers.
const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_PATH, "utf8")) as object);

/** What ajv says of a YAML text; a text YAML cannot parse is invalid under any schema. */
function ajvAccepts(text: string): { ok: boolean; errors: string } {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) return { ok: false, errors: "YAML does not parse" };
  const ok = validate(doc.toJS());
  return { ok, errors: ok ? "" : ajv.errorsText(validate.errors) };
}

function loadErrors(text: string): readonly string[] {
  const result = loadConfig(text);
  return result.ok ? [] : result.errors;
}

describe("config/schema.json", () => {
  it("is what `npm run schema` writes (run it after changing src/config/schema.ts)", async () => {
    const committed = readFileSync(SCHEMA_PATH, "utf8");
    expect(JSON.parse(committed)).toEqual(generateSchema());
    expect(committed).toBe(await renderSchema());
  });

  it("is a valid draft-07 schema with an id and a title", () => {
    const schema = generateSchema();
    expect(ajv.validateSchema(schema)).toBe(true);
    expect(schema).toMatchObject({
      $schema: "http://json-schema.org/draft-07/schema#",
      $id: expect.stringMatching(/^https:\/\//) as unknown,
      title: "kube-chaos-monkey config",
    });
  });

  it("has fixtures of both kinds, and the exception list names only invalid fixtures", () => {
    expect(VALID.length).toBeGreaterThanOrEqual(7);
    expect(INVALID.length).toBeGreaterThanOrEqual(12);
    const names = new Set(INVALID.map((f) => f.name));
    expect([...REFINEMENT_ONLY.keys()].filter((n) => !names.has(n))).toEqual([]);
  });

  describe.each(VALID)("valid $name", ({ text }) => {
    it("loadConfig and the JSON Schema both accept it", () => {
      expect(loadErrors(text)).toEqual([]);
      expect(ajvAccepts(text)).toEqual({ ok: true, errors: "" });
    });
  });

  describe.each(INVALID)("invalid $name", ({ name, text }) => {
    const exception = REFINEMENT_ONLY.get(name);

    it(
      exception === undefined
        ? "loadConfig and the JSON Schema both reject it"
        : `loadConfig rejects it; the JSON Schema cannot check ${exception}`,
      () => {
        expect(loadErrors(text)).not.toEqual([]);
        expect(ajvAccepts(text).ok).toBe(exception !== undefined);
      },
    );

    it("loadConfig's first error is the one its `# error:` line names", () => {
      const expected = /^# error: (.*)$/m.exec(text.split("\n")[0] ?? "")?.[1];
      expect(expected, "the first line must be `# error: <message>`").toBeDefined();
      expect(loadErrors(text)[0]).toBe(expected);
    });
  });

  it("documents as defaults the values loadConfig fills in", () => {
    const result = loadConfig(`apiVersion: chaos-monkey.io/v1
kind: ChaosMonkeyConfig
targets:
  - { name: pods, kind: Pod, schedule: "@hourly" }
  - { name: claims, kind: PersistentVolumeClaim, schedule: "@hourly" }
`);
    if (!result.ok) throw new Error(result.errors.join("\n"));
    const { config } = result;
    const [pod, claim] = config.targets;
    const schema = generateSchema();
    const def = (path: string): unknown => schemaAt(schema, path).default;
    const ms = (path: string): number | undefined => parseDuration(def(path) as string);
    expect({
      dryRun: def("dryRun"),
      timezone: def("timezone"),
      seed: def("seed"),
      paused: def("paused"),
      safety: {
        // The documented default list is what is added to the system namespaces.
        excludedNamespaces: [
          ...(def("safety.allowSystemNamespaces") === true ? [] : SYSTEM_NAMESPACES),
          ...(def("safety.excludedNamespaces") as string[]),
        ],
        allowSystemNamespaces: def("safety.allowSystemNamespaces"),
        optOutAnnotation: def("safety.optOutAnnotation"),
        maxKillsPerRound: def("safety.maxKillsPerRound"),
        maxPerOwner: def("safety.maxPerOwner"),
        requireHealthy: def("safety.requireHealthy"),
      },
      recoveryTimeoutMs: ms("recovery.timeout"),
    }).toEqual({
      dryRun: config.dryRun,
      timezone: config.timezone,
      seed: config.seed,
      paused: config.paused,
      safety: { ...config.safety, blackout: undefined },
      recoveryTimeoutMs: config.recoveryTimeoutMs,
    });
    expect({
      jitterMs: ms("targets[].jitter"),
      concurrency: def("targets[].concurrency"),
      mode: def("targets[].mode"),
      value: def("targets[].value"),
      minAgeMs: ms("targets[].selector.minAge"),
      includeOrphans: def("targets[].selector.includeOrphans"),
      method: def("targets[].action.method"),
    }).toEqual({
      jitterMs: pod?.jitterMs,
      concurrency: pod?.concurrency,
      mode: pod?.mode,
      value: pod?.value,
      minAgeMs: pod?.selector.minAgeMs,
      includeOrphans: pod?.selector.includeOrphans,
      method: pod?.action.method,
    });
    expect(def("targets[].action.stripFinalizers")).toBe(false);
    expect(claim?.action.stripFinalizers).toEqual([]);
    expect(def("targets[].action.restartConsumers")).toBe(claim?.action.restartConsumers);
  });
});

describe("config/schema.json's notify defaults", () => {
  it("are what loadConfig fills in", () => {
    const result = loadConfig(
      `apiVersion: chaos-monkey.io/v1\nkind: ChaosMonkeyConfig\nnotify: [{name: a, webhook: {url: "http://127.0.0.1/"}}]\ntargets: [{name: p, kind: Pod, schedule: "@hourly"}]\n`,
    );
    if (!result.ok) throw new Error(result.errors.join("\n"));
    const schema = generateSchema();
    expect(schemaAt(schema, "notify[].events").default).toEqual(result.config.notify[0]?.events);
    const none = loadConfig(
      `apiVersion: chaos-monkey.io/v1\nkind: ChaosMonkeyConfig\ntargets: [{name: p, kind: Pod, schedule: "@hourly"}]\n`,
    );
    expect(schemaAt(schema, "notify").default).toEqual(none.ok && none.config.notify);
  });
});

// The patterns the generator adds must never reject what the parsers accept (an editor would
// flag a working config). ajv compiles patterns with the u flag, so these do too.
describe("patterns added to the schema accept everything the parsers accept", () => {
  const matches = (pattern: string, s: string) => new RegExp(pattern, "u").test(s);
  const from = (chars: string, maxLength: number) =>
    fc.string({ unit: fc.constantFrom(...chars), maxLength });
  const blank = fc.constantFrom("", " ", "\t", "  ");
  const padded = (s: fc.Arbitrary<string>) =>
    fc.tuple(blank, s, blank).map(([a, b, c]) => a + b + c);
  const twoDigits = fc.integer({ min: 0, max: 99 }).map((n) => String(n).padStart(2, "0"));

  it("durations: exactly parseDuration's, but for whole-millisecond limits", () => {
    const fraction = fc.option(fc.nat(9999).map(String), { nil: undefined });
    const term = fc
      .tuple(fc.nat(999), fraction, fc.constantFrom("ms", "s", "m", "h", "d", ""))
      .map(([whole, f, unit]) => `${whole}${f === undefined ? "" : `.${f}`}${unit}`);
    const terms = fc.array(term, { minLength: 1, maxLength: 3 }).map((t) => t.join(""));
    fc.assert(
      fc.property(fc.oneof(terms, from("0123456789.mshd ", 8)), (s) => {
        const parsed = parseDuration(s) !== undefined;
        if (parsed) expect(matches(PATTERNS.duration, s)).toBe(true);
        // The converse fails only for a fraction that is not whole ms ("1.5ms", "0.0001s").
        if (!parsed && matches(PATTERNS.duration, s)) expect(s).toMatch(/\./);
      }),
      { numRuns: 500 },
    );
  });

  it("weekdays: exactly parseWeekday's", () => {
    const day = fc
      .tuple(
        fc.constantFrom("sun", "monday", "Tue", "WEDNESDAY", "thursday", "fri", "Saturday", "sat"),
        fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }),
      )
      .map(([d, upper]) => [...d].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(""));
    fc.assert(
      fc.property(fc.oneof(padded(day), from("satundyMSTWF ", 10)), (s) => {
        expect(matches(PATTERNS.weekday, s)).toBe(parseWeekday(s) !== undefined);
      }),
    );
  });

  it("times of day: parseTimeRange's, but for empty ranges", () => {
    const range = fc
      .tuple(twoDigits, twoDigits, twoDigits, twoDigits)
      .map(([a, b, c, d]) => `${a}:${b}-${c}:${d}`);
    fc.assert(
      fc.property(padded(range), (s) => {
        const parsed = parseTimeRange(s) !== undefined;
        if (parsed) expect(matches(PATTERNS.timeRange, s)).toBe(true);
        if (!parsed && matches(PATTERNS.timeRange, s)) {
          const [start, end] = s.trim().split("-");
          expect(start).toBe(end);
        }
      }),
    );
  });

  it("dates: parseBlackoutDate's, but for February 29 of common years", () => {
    const year = fc.option(fc.integer({ min: 0, max: 9999 }), { nil: undefined });
    const date = fc
      .tuple(year, twoDigits, twoDigits)
      .map(([y, m, d]) => `${y === undefined ? "" : `${String(y).padStart(4, "0")}-`}${m}-${d}`);
    fc.assert(
      fc.property(padded(date), (s) => {
        const parsed = parseBlackoutDate(s) !== undefined;
        if (parsed) expect(matches(PATTERNS.date, s)).toBe(true);
        if (!parsed && matches(PATTERNS.date, s)) expect(s.trim()).toMatch(/^\d{4}-02-29$/);
      }),
    );
  });

  it("field selectors: exactly parseFieldSelector's on the fields of the kind", () => {
    const path = fc.constantFrom(
      ...SELECTABLE_FIELDS.Pod,
      "status.hostIP",
      "spec.storageClassName",
      "metadata.namex",
      "constructor",
      "metadata.name.",
      "1spec",
      "",
    );
    const op = fc.constantFrom("=", "==", "!=", "", "<", " in ");
    const value = fc.constantFrom("", "node-1", " a b ", "x=y", "a!b", "Running");
    const term = fc.tuple(blank, path, blank, op, blank, value).map((parts) => parts.join(""));
    const text = fc.oneof(
      blank,
      fc.array(term, { minLength: 1, maxLength: 3 }).map((t) => t.join(",")),
      fc.array(term, { minLength: 1, maxLength: 2 }).map((t) => `${t.join(",")},`),
    );
    let accepted = 0;
    let runs = 0;
    fc.assert(
      fc.property(
        text,
        fc.constantFrom(...(["Pod", "PersistentVolumeClaim"] as const)),
        (s, kind) => {
          runs++;
          const pattern = kind === "Pod" ? PATTERNS.podFieldSelector : PATTERNS.volumeFieldSelector;
          const parses = (() => {
            try {
              parseFieldSelector(s);
              return true;
            } catch {
              return false;
            }
          })();
          const valid = parses && unselectableFields(kind, s).length === 0;
          if (valid) accepted++;
          expect(matches(pattern, s)).toBe(valid);
        },
      ),
      { numRuns: 1000 },
    );
    // Not vacuous: a fair share of the texts is valid, and a fair share is not.
    expect(accepted).toBeGreaterThan(runs / 10);
    expect(accepted).toBeLessThan(runs * 0.9);
  });

  // Texts with ${NAME} references, "$" and "{" in every position, and the characters each rule
  // excludes.
  const withEnvText = (extra: string[]) =>
    fc
      .array(
        fc.constantFrom("$", "{", "}", "${A}", "${_b9}", "${1}", "${A-B}", "a", "/", ...extra),
        { maxLength: 8 },
      )
      .map((parts) => parts.join(""));

  it("header values: exactly the validator's", () => {
    fc.assert(
      fc.property(withEnvText(["\r", "\n", "\u0000", " ", "\t", "Bearer "]), (s) => {
        expect(matches(PATTERNS.headerValue, s)).toBe(headerValueError(s) === undefined);
      }),
      { numRuns: 1000 },
    );
  });

  it("sink URLs: a superset of the validator's", () => {
    const prefix = fc.constantFrom("http://", "HTTPS://", "https://h.example/", "ftp://", "", " ");
    let accepted = 0;
    fc.assert(
      fc.property(prefix, withEnvText([" ", "\t", "\u007f", "h", ":", "@", "?x=1"]), (p, rest) => {
        const s = p + rest;
        if (sinkUrlError(s) !== undefined) return;
        accepted++;
        expect(matches(PATTERNS.sinkUrl, s)).toBe(true);
      }),
      { numRuns: 1000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it("schedules: a superset of parseSchedule's", () => {
    const pick = (...xs: string[]) => fc.constantFrom(...xs);
    const minute = pick("*", "*/5", "0", "59", "0-30/10", "0,30", "*/60", "*/61", "60", "H");
    const hour = pick("*", "0", "23", "9-17", "*/2", "24");
    const dayOfMonth = pick("*", "1", "31", "L", "15W", "?", "1-15");
    const month = pick("*", "1", "12", "jan", "JAN-JUN", "*/3", "13");
    const weekday = pick("*", "0", "7", "MON-FRI", "5L", "1#2", "?", "sun");
    const seconds = fc.option(minute, { nil: undefined });
    const cron = fc
      .tuple(fc.tuple(seconds, minute, hour, dayOfMonth, month, weekday), pick(" ", "  ", "\t"))
      .map(([fields, sep]) => fields.filter((f) => f !== undefined).join(sep));
    const macro = pick(
      ...["@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually"],
      ...["@every 90s", "@every 1h30m", "@every  1.5s", "@every 0.5s", "@weekdays", "@every"],
    );
    let parsed = 0;
    fc.assert(
      fc.property(padded(fc.oneof(cron, macro)), (s) => {
        if (!parseSchedule(s).ok) return;
        parsed++;
        expect(matches(PATTERNS.schedule, s)).toBe(true);
      }),
      { numRuns: 500 },
    );
    // The property says something only about inputs that parse: most of them must.
    expect(parsed).toBeGreaterThan(100);
  });
});
