// Plain JSON GETs and watches with the kubeconfig's credentials, for the watch caches. Lists
// and watch events then share one representation (the API's JSON), with no typed-model
// conversion in between.
import { STATUS_CODES } from "node:http";
import { HttpMethod, RequestContext } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import { fetch, request } from "undici";

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function apiUrl(
  kc: KubeConfig,
  path: string,
  query: Record<string, string | undefined>,
): URL {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster");
  const url = new URL(cluster.server + path);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  return url;
}

/** The kubeconfig's credentials for one request: its headers and the pooled TLS dispatcher. */
async function credentials(kc: KubeConfig, url: URL, method: HttpMethod) {
  const ctx = new RequestContext(url.toString(), method);
  await kc.applySecurityAuthentication(ctx);
  return { headers: ctx.getHeaders(), dispatcher: ctx.getDispatcher() as never };
}

export async function getJson(kc: KubeConfig, url: URL, signal?: AbortSignal): Promise<unknown> {
  const { headers, dispatcher } = await credentials(kc, url, HttpMethod.GET);
  const res = await fetch(url, { headers, dispatcher, ...(signal ? { signal } : {}) });
  if (!res.ok)
    throw new HttpError(res.status, `GET ${url.pathname}: ${res.status} ${res.statusText}`);
  return res.json();
}

export interface JsonRequest {
  readonly method: "POST" | "PUT";
  readonly body: unknown;
  readonly signal?: AbortSignal;
}

/** A JSON write; a refusal throws HttpError carrying the API's Status message. */
export async function sendJson(kc: KubeConfig, url: URL, req: JsonRequest): Promise<unknown> {
  const { headers, dispatcher } = await credentials(kc, url, req.method);
  const res = await fetch(url, {
    method: req.method,
    headers: {
      ...headers,
      "content-type": "application/json",
      accept: "application/json",
    },
    body: JSON.stringify(req.body),
    dispatcher,
    ...(req.signal ? { signal: req.signal } : {}),
  });
  if (!res.ok) {
    const why = statusMessage(await res.text()) ?? res.statusText;
    throw new HttpError(res.status, `${req.method} ${url.pathname}: ${res.status} ${why}`);
  }
  return res.json();
}

function statusMessage(text: string): string | undefined {
  try {
    const status = JSON.parse(text) as { message?: unknown } | null;
    if (typeof status?.message === "string") return status.message;
  } catch {
    // not a Status object
  }
  return text ? text.slice(0, 300) : undefined;
}

export interface WatchHandlers {
  /** The server accepted the watch: its status and headers arrived, events may follow. */
  readonly onOpen?: () => void;
  /** One event of the stream (`{type, object}` of the API's watch JSON), as it arrives. */
  readonly onEvent: (type: string, object: unknown) => void;
  readonly signal: AbortSignal;
}

/**
 * A watch: GET `url` (a `watch=true` query) and hand each event to `onEvent` as its line
 * arrives. Nothing here holds more than the chunk being read and one event's line, however many
 * objects the watch sends (a streaming list of 50,000 pods is 50,000 small parses, never one
 * large body). Resolves when the server ends the stream; a refusal throws HttpError carrying the
 * API's Status message (which tells a refused parameter from a refused verb).
 */
export async function watchJson(kc: KubeConfig, url: URL, h: WatchHandlers): Promise<void> {
  const { headers, dispatcher } = await credentials(kc, url, HttpMethod.GET);
  // undici's request(), not fetch(): a Node stream of Buffers, without WHATWG streams between.
  const res = await request(url, {
    method: "GET",
    headers: { ...headers, accept: "application/json" },
    signal: h.signal,
    ...(dispatcher ? { dispatcher } : {}),
  });
  if (res.statusCode !== 200) {
    const text = await res.body.text().catch(() => "");
    const why = statusMessage(text) ?? STATUS_CODES[res.statusCode] ?? "";
    throw new HttpError(res.statusCode, `WATCH ${url.pathname}: ${res.statusCode} ${why}`);
  }
  h.onOpen?.();
  const lines = new LineReader((line) => {
    const e = JSON.parse(line) as { type?: unknown; object?: unknown };
    h.onEvent(String(e.type), e.object);
  });
  for await (const chunk of res.body) lines.push(chunk as Buffer);
  lines.end();
}

/**
 * Splits a byte stream into lines without joining chunks that hold whole lines: only a line
 * that spans chunks is copied (once, when its end arrives).
 */
export class LineReader {
  private parts: Buffer[] = [];

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const tail = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.parts.length === 0) this.line(tail);
      else {
        this.parts.push(tail);
        const whole = Buffer.concat(this.parts);
        this.parts = [];
        this.line(whole);
      }
    }
    // A copy: a slice would keep the whole chunk (often a 64 KiB slab) alive with it.
    if (start < chunk.length) this.parts.push(Buffer.from(chunk.subarray(start)));
  }

  /** The stream ended: a last line without its newline still counts. */
  end(): void {
    if (this.parts.length > 0) this.line(Buffer.concat(this.parts));
    this.parts = [];
  }

  private line(bytes: Buffer): void {
    if (bytes.length > 0) this.onLine(bytes.toString("utf8"));
  }
}
