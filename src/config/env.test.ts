import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { envReferenceError, envReferences, expandEnv, Secret } from "./env.js";

describe("expandEnv", () => {
  it.each([
    ["no reference", "https://a.example/x", {}, { value: "https://a.example/x" }],
    ["a whole value", "${URL}", { URL: "https://h/x" }, { value: "https://h/x" }],
    ["inside text, twice", "Bearer ${T}.${T}", { T: "t0k" }, { value: "Bearer t0k.t0k" }],
    ["several", "${A}-${B_2}", { A: "a", B_2: "b" }, { value: "a-b" }],
    ["a lone $ stays", "a $b $ c$", {}, { value: "a $b $ c$" }],
    ["$$ before a reference", "$${A}", { A: "a" }, { value: "$a" }],
    ["not re-expanded", "${A}", { A: "${B}", B: "no" }, { value: "${B}" }],
    ["unset", "${A}/${B}/${A}", { B: "b" }, { missing: ["A"] }],
    ["empty counts as missing", "${A}${B}", { A: "" }, { missing: ["A", "B"] }],
  ])("%s", (_what, text, env, expected) => {
    expect(expandEnv(text, env)).toEqual(expected);
  });
});

describe("envReferences and envReferenceError", () => {
  it("lists each name once, in order of first use", () => {
    expect(envReferences("${B}${A}x${B}")).toEqual(["B", "A"]);
    expect(envReferences("none, $A or {B}")).toEqual([]);
  });

  it.each(["${A", "${}", "${1A}", "${A-B}", "${ A }", "x${A}${", "$${"])(
    "refuses the malformed %j",
    (text) => {
      expect(envReferenceError(text)).toMatch(/is not a reference/);
    },
  );

  it.each(["", "plain", "$A", "${A}", "$${A}", "$${A}{", "a$", "{A}", "${_a9}"])(
    "accepts %j",
    (text) => {
      expect(envReferenceError(text)).toBeUndefined();
    },
  );
});

describe("Secret", () => {
  const secret = new Secret({ url: "https://hooks.example/T0/B0/s3cr3t", token: "s3cr3t" });

  it("gives its value only through reveal()", () => {
    expect(secret.reveal().token).toBe("s3cr3t");
    expect(Object.keys(secret)).toEqual([]);
  });

  it("never prints it: JSON, inspect (pino, console), string conversion", () => {
    const printed = [
      JSON.stringify({ secret }),
      inspect({ secret }, { depth: 10, showHidden: true }),
      `${String(secret)}`,
    ];
    for (const text of printed) {
      expect(text).not.toContain("s3cr3t");
      expect(text).toContain("[redacted]");
    }
  });
});
