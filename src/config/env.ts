// `${NAME}` in a sink's (and a probe's) URL and headers is taken from the monkey's environment
// at load (SPEC §2), so secrets live in a mounted Secret rather than in the ConfigMap. Nothing
// here reads process.env: the caller passes the environment in. The expanded values are secrets:
// they travel in a Secret, which prints as "[redacted]" wherever it is logged or serialized.
import { inspect } from "node:util";

/** An environment: variable names to values, as process.env is. */
export type Env = Readonly<Record<string, string | undefined>>;

export type ExpandResult = { readonly value: string } | { readonly missing: readonly string[] };

// POSIX-style names; anything else after "${" is a malformed reference (envReferenceError).
const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const MALFORMED = /\$\{(?![A-Za-z_][A-Za-z0-9_]*\})/;

/** The variable names `text` refers to, each once, in order of first use. */
export function envReferences(text: string): string[] {
  return [...new Set([...text.matchAll(REFERENCE)].map((m) => m[1] ?? ""))];
}

/**
 * Why `text` holds a "${" that does not start a well-formed `${NAME}` reference, or undefined
 * when every one does. A "$" not followed by "{" is literal.
 */
export function envReferenceError(text: string): string | undefined {
  if (!MALFORMED.test(text)) return undefined;
  return 'has a "${" that is not a reference ${NAME} (NAME: letters, digits and _, not first a digit)';
}

/**
 * Replaces every `${NAME}` in `text` with its value in `env`. An unset or empty variable is
 * missing: an empty secret is a mistake far more often than a choice.
 */
export function expandEnv(text: string, env: Env): ExpandResult {
  const missing = envReferences(text).filter((name) => !env[name]);
  if (missing.length > 0) return { missing };
  return { value: text.replace(REFERENCE, (_m, name: string) => env[name] ?? "") };
}

const REDACTED = "[redacted]";

/**
 * A value that must not be printed: JSON.stringify, util.inspect (so pino and console) and
 * string conversion all show "[redacted]". Only reveal() gives it, and only the code that sends
 * it should call that.
 */
export class Secret<T> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  reveal(): T {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/** The text with its references expanded, or as written when there is no environment. */
export function expanded(text: string, env: Env | undefined): string {
  if (env === undefined) return text;
  const result = expandEnv(text, env);
  return "value" in result ? result.value : text;
}
