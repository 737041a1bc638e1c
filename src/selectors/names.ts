// Name patterns (selector.includeNames / excludeNames). Tenants choose the names these run on,
// so matching must take linear time whatever the name: a backtracking engine (RegExp) spends
// exponential time on `^(a+)+$` against "aaaa…a-x" and stalls the event loop, rounds and
// watches with it. RE2 (re2js, pure JavaScript) has no backtracking, and so neither
// backreferences nor lookaround.
import { RE2JS } from "re2js";

export interface NamePattern {
  /** The pattern as written in the config. */
  readonly source: string;
  /** Does the pattern match anywhere in `name` (unanchored, as RegExp.test)? */
  test(name: string): boolean;
}

/** Compiles a name pattern; throws when RE2 cannot (namePatternError says why, for the config). */
export function compileNamePattern(source: string): NamePattern {
  const re = RE2JS.compile(source);
  return { source, test: (name) => re.test(name) };
}

function jsAccepts(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** Why `source` cannot be a name pattern (the tail of a config error), or undefined if it can. */
export function namePatternError(source: string): string | undefined {
  try {
    RE2JS.compile(source);
    return undefined;
  } catch (err) {
    if (!jsAccepts(source)) return "is not a valid regular expression";
    const detail = err instanceof Error ? err.message.replace(/^error parsing regexp: /, "") : "";
    return (
      `is not supported (${detail}): names are matched in linear time (RE2 syntax), ` +
      "so backreferences and lookaround are not available"
    );
  }
}
