// Splitting a watch stream's chunks into event lines.
import { describe, expect, it } from "vitest";
import { LineReader } from "./http.js";

const read = (chunks: string[]): string[] => {
  const lines: string[] = [];
  const r = new LineReader((l) => lines.push(l));
  for (const c of chunks) r.push(Buffer.from(c));
  r.end();
  return lines;
};

describe("LineReader", () => {
  it("splits lines wherever the chunks break, and keeps a last line without its newline", () => {
    expect(read(['{"a":1}\n{"b"', ":2}\n", '{"c":3}'])).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    expect(read(["x", "y", "z\n\n", "w\n"])).toEqual(["xyz", "w"]);
    expect(read([])).toEqual([]);
  });

  it("never splits a multi-byte character that spans chunks", () => {
    const bytes = Buffer.from('{"name":"čaj ☕"}\n');
    const lines: string[] = [];
    const r = new LineReader((l) => lines.push(l));
    for (let i = 0; i < bytes.length; i++) r.push(bytes.subarray(i, i + 1));
    expect(lines).toEqual(['{"name":"čaj ☕"}']);
  });
});
