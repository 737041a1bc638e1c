import { describe, expect, it } from "vitest";
import { compileNamePattern, namePatternError } from "./names.js";

describe("compileNamePattern", () => {
  it.each<[string, string, boolean]>([
    ["^web-", "web-1", true],
    ["^web-", "api-web-1", false],
    ["-canary-", "web-canary-1", true],
    ["-1$", "web-1", true],
    ["-1$", "web-10", false],
    ["^(web|api)-[0-9]+$", "api-42", true],
    ["(?i)^WEB", "web-1", true], // RE2 flags, which RegExp does not have
    ["", "anything", true],
  ])("%j on %j → %s (unanchored, as RegExp.test)", (pattern, name, expected) => {
    expect(compileNamePattern(pattern).test(name)).toBe(expected);
  });

  it("keeps the source as written", () => {
    expect(compileNamePattern("^web-").source).toBe("^web-");
  });

  // Tenants choose pod and claim names. With RegExp each of these takes 2^58 steps or so on the
  // 60-character name below, which would stall the event loop for good; RE2 matches in linear
  // time. There is no timing assertion: the bound is vitest's default 5 s test timeout, which
  // this test would blow by ages with a backtracking engine.
  it.each(["^(a+)+$", "^(a|a)*$", "^(a|aa)+$", "(a*)*b", "^(([a-z])+.)+[A-Z]([a-z])+$"])(
    "matches the catastrophic %j against a 60-character name without backtracking",
    (pattern) => {
      const name = `${"a".repeat(58)}-x`.padEnd(60, "x");
      expect(name).toHaveLength(60);
      expect(compileNamePattern(pattern).test(name)).toBe(false);
    },
  );
});

describe("namePatternError", () => {
  it("accepts RE2 syntax", () => {
    for (const p of ["^web-", "-canary-", "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "(?P<n>x)", "\\d+"])
      expect(namePatternError(p)).toBeUndefined();
  });

  it.each(["(web", "[a-", "*x", "a{2,1}"])("calls %j not a valid regular expression", (p) => {
    expect(namePatternError(p)).toBe("is not a valid regular expression");
  });

  it.each(["(a)\\1", "web(?=-1)", "web(?!-canary)", "(?<=web)-1", "(?<!x)y"])(
    "refuses %j, valid for RegExp, as unsupported because names are matched in linear time",
    (p) => {
      const error = namePatternError(p);
      expect(error).toMatch(/^is not supported \(.+\): names are matched in linear time/);
      expect(error).toContain("backreferences and lookaround are not available");
      expect(() => compileNamePattern(p)).toThrow();
    },
  );
});
