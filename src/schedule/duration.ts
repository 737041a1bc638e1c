const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

// One "<number><unit>" term; a duration is one or more of them ("1h30m", "1.5h", "500ms").
const TERM = /(\d+)(?:\.(\d+))?(ms|s|m|h)/y;
const MAX_FRACTION_DIGITS = 9;

/** The whole milliseconds of one term, or undefined when it is not a whole number of ms. */
function termMs(whole: string, fraction: string, unitMs: number): number | undefined {
  if (fraction.length > MAX_FRACTION_DIGITS) return undefined;
  const fractionMs = (Number(fraction || "0") * unitMs) / 10 ** fraction.length;
  if (!Number.isInteger(fractionMs)) return undefined;
  return Number(whole) * unitMs + fractionMs;
}

/**
 * Parses a Go-style duration ("90s", "10m", "1h30m", "500ms", "1.5h") into milliseconds.
 * Units are ms, s, m and h; "0" alone is zero as in Go. Returns undefined for anything else:
 * empty text, a bare number, other units ("1d"), a sign, or a value that is not whole ms.
 */
export function parseDuration(text: string): number | undefined {
  if (text === "0") return 0;
  if (text === "") return undefined;
  TERM.lastIndex = 0;
  let total = 0;
  while (TERM.lastIndex < text.length) {
    const match = TERM.exec(text);
    if (match === null) return undefined;
    const [, whole = "", fraction = "", unit = ""] = match;
    const ms = termMs(whole, fraction, UNIT_MS[unit] ?? Number.NaN);
    if (ms === undefined) return undefined;
    total += ms;
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/**
 * Formats milliseconds compactly, largest unit first, zero parts left out: "1h30m", "1m30s",
 * "1.5s", "250ms", "0s". parseDuration reads every output back to the same (rounded) value.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`cannot format duration ${ms}`);
  const rounded = Math.round(ms);
  if (rounded < 0) return `-${formatDuration(-rounded)}`;
  if (rounded === 0) return "0s";
  if (rounded < 1000) return `${rounded}ms`;
  const hours = Math.floor(rounded / 3_600_000);
  const minutes = Math.floor((rounded % 3_600_000) / 60_000);
  const seconds = (rounded % 60_000) / 1000;
  return [
    hours > 0 ? `${hours}h` : "",
    minutes > 0 ? `${minutes}m` : "",
    seconds > 0 ? `${seconds}s` : "",
  ].join("");
}
