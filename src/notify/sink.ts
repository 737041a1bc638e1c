// Delivery to one sink (SPEC §6b), built so that it can never hold up a round: a bounded queue
// (the oldest dropped first when full), one request at a time, each try bounded by a timeout,
// a few tries with jittered backoff for what may pass (5xx, 408, 429, timeouts, network errors)
// and none for what will not (other 4xx, redirects). Slack's 429 Retry-After is honoured. Every
// notification ends counted once: sent, failed or dropped. Logs name the sink and the status or
// reason, never the URL or a header: both are credentials.
import { fetch as undiciFetch } from "undici";
import type { Clock } from "../clock.js";
import type { Endpoint, NotifySink } from "../config/types.js";
import type { NotificationResult } from "../observe/metrics.js";
import type { Logger } from "../observe/logger.js";
import { VERSION } from "../version.js";
import type { ChaosNotification } from "./event.js";
import { LOG } from "../observe/messages.js";
import type { Rng } from "../rng.js";

/** The part of fetch delivery uses; undici's fetch by default, injectable for tests. */
export type Fetch = (
  url: string,
  init: {
    method: "POST";
    headers: Record<string, string>;
    body: string;
    signal: AbortSignal;
    redirect: "manual";
  },
) => Promise<{
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  text(): Promise<string>;
}>;

export type NotifyLog = Pick<Logger, "debug" | "info" | "warn">;
export type CountNotification = (sink: string, result: NotificationResult) => void;

export interface DeliveryOptions {
  readonly clock: Clock;
  /** Jitters the backoff; seeded in tests. */
  readonly rng: Rng;
  readonly log: NotifyLog;
  /** Metrics#notification, so every outcome lands in chaos_monkey_notifications_total. */
  readonly count: CountNotification;
  readonly fetch?: Fetch;
  /** Notifications waiting per sink before the oldest is dropped. Default 100. */
  readonly capacity?: number;
  /** Per try. Default 5 s. */
  readonly timeoutMs?: number;
  /** Tries per notification, the first included. Default 3. */
  readonly tries?: number;
  /** The first backoff; each next one doubles, jittered to 50–100 %. Default 1 s. */
  readonly backoffMs?: number;
  /** A Retry-After longer than this is not waited for: the notification fails. Default 60 s. */
  readonly maxRetryAfterMs?: number;
}

export const DELIVERY_DEFAULTS = {
  capacity: 100,
  timeoutMs: 5_000,
  tries: 3,
  backoffMs: 1_000,
  maxRetryAfterMs: 60_000,
} as const;

/** Slack accepts about one message per second per webhook; beyond that it answers 429. */
const SLACK_MIN_INTERVAL_MS = 1_000;
const REASON_CHARS = 120;

export interface Outgoing {
  readonly notification: ChaosNotification;
  /** The request body, rendered when queued. */
  readonly body: string;
}

type Attempt =
  | { readonly kind: "sent"; readonly status: number }
  | {
      readonly kind: "retry" | "fail";
      readonly status?: number;
      readonly reason: string;
      readonly waitMs?: number;
    };

class Closed extends Error {}

/** One sink's queue and its one delivery loop. */
export class SinkQueue {
  #sink: NotifySink;
  readonly #opts: DeliveryOptions & Required<Omit<DeliveryOptions, "fetch">>;
  readonly #fetch: Fetch;
  readonly #queue: Outgoing[] = [];
  readonly #closing = new AbortController();
  #running = false;
  #idleWaiters: (() => void)[] = [];
  #lastStartMs: number | undefined;
  /** Drops since the queue last overflowed, reported once it drains. */
  #dropped = 0;

  constructor(sink: NotifySink, opts: DeliveryOptions) {
    this.#sink = sink;
    this.#opts = {
      ...opts,
      capacity: opts.capacity ?? DELIVERY_DEFAULTS.capacity,
      timeoutMs: opts.timeoutMs ?? DELIVERY_DEFAULTS.timeoutMs,
      tries: opts.tries ?? DELIVERY_DEFAULTS.tries,
      backoffMs: opts.backoffMs ?? DELIVERY_DEFAULTS.backoffMs,
      maxRetryAfterMs: opts.maxRetryAfterMs ?? DELIVERY_DEFAULTS.maxRetryAfterMs,
    };
    this.#fetch = opts.fetch ?? undiciFetch;
  }

  get name(): string {
    return this.#sink.name;
  }

  get type(): NotifySink["type"] {
    return this.#sink.type;
  }

  /** A reloaded config's version of the same sink: later tries use its endpoint. */
  setSink(sink: NotifySink): void {
    this.#sink = sink;
  }

  /** Queues and returns at once; the delivery loop starts on a later tick. */
  enqueue(item: Outgoing): void {
    if (this.#closing.signal.aborted) {
      this.#drop(item, "closed");
      return;
    }
    if (this.#queue.length >= this.#opts.capacity) {
      const oldest = this.#queue.shift();
      if (oldest !== undefined) this.#drop(oldest, "queue full");
    }
    this.#queue.push(item);
    if (!this.#running) {
      this.#running = true;
      queueMicrotask(() => void this.#drain().catch((err: unknown) => this.#stopped(err)));
    }
  }

  /** Resolves once nothing is queued or in flight. */
  idle(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Aborts the request in flight (counted failed) and drops what waits (counted dropped). */
  close(): void {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort(new Closed("closed"));
    for (const item of this.#queue.splice(0)) this.#drop(item, "closed");
  }

  /** Only a throwing logger or counter gets here; the next enqueue starts the loop again. */
  #stopped(err: unknown): void {
    try {
      this.#opts.log.warn({ sink: this.name, err }, LOG.NOTIFICATION_DELIVERY_STOPPED);
    } catch {
      // Nothing left to tell it with; never let it become an unhandled rejection.
    }
  }

  #drop(item: Outgoing, why: "queue full" | "closed"): void {
    this.#opts.count(this.name, "dropped");
    if (why === "queue full" && this.#dropped++ === 0)
      this.#opts.log.warn(
        { sink: this.name, capacity: this.#opts.capacity, ...about(item) },
        "notification queue full: dropping the oldest",
      );
    else
      this.#opts.log.debug(
        { sink: this.name, reason: why, ...about(item) },
        "notification dropped",
      );
  }

  async #drain(): Promise<void> {
    try {
      for (let item = this.#queue.shift(); item !== undefined; item = this.#queue.shift()) {
        await this.#deliver(item);
        if (this.#queue.length === 0 && this.#dropped > 0) {
          this.#opts.log.warn({ sink: this.name, dropped: this.#dropped }, "notifications dropped");
          this.#dropped = 0;
        }
      }
    } finally {
      this.#running = false;
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  async #deliver(item: Outgoing): Promise<void> {
    const { tries, log, count } = this.#opts;
    for (let attempt = 1; ; attempt++) {
      let result: Attempt;
      try {
        await this.#pace();
        result = await this.#try(item.body);
      } catch (err) {
        // Closed, or a bug: either way this notification ends here, counted, and the loop goes on.
        result = {
          kind: "fail",
          reason:
            err instanceof Closed || this.#closing.signal.aborted
              ? "shut down before it was delivered"
              : `internal error (${err instanceof Error ? err.name : "unknown"})`,
        };
      }
      const fields = { sink: this.name, ...about(item), tries: attempt };
      if (result.kind === "sent") {
        count(this.name, "sent");
        log.debug({ ...fields, status: result.status }, "notification sent");
        return;
      }
      const { status, reason } = result;
      if (result.kind === "fail" || attempt >= tries || this.#closing.signal.aborted) {
        count(this.name, "failed");
        log.warn({ ...fields, status, reason }, LOG.NOTIFICATION_FAILED);
        return;
      }
      const waitMs = result.waitMs ?? this.#backoff(attempt);
      log.debug({ ...fields, status, reason, retryInMs: Math.round(waitMs) }, "notification retry");
      await this.#sleep(waitMs).catch(() => undefined);
    }
  }

  #backoff(attempt: number): number {
    const full = this.#opts.backoffMs * 2 ** (attempt - 1);
    return full / 2 + (full / 2) * this.#opts.rng();
  }

  /** Slack rate-limits a webhook to about a message a second: keep under it. */
  async #pace(): Promise<void> {
    const last = this.#lastStartMs;
    if (this.#sink.type === "slack" && last !== undefined) {
      const waitMs = last + SLACK_MIN_INTERVAL_MS - this.#opts.clock.now();
      if (waitMs > 0) await this.#sleep(waitMs);
    }
    this.#lastStartMs = this.#opts.clock.now();
  }

  /** Sleeps on the clock; rejects with Closed when the queue closes first. */
  async #sleep(ms: number): Promise<void> {
    try {
      await this.#opts.clock.sleep(ms, this.#closing.signal);
    } catch {
      throw new Closed("closed");
    }
  }

  async #try(body: string): Promise<Attempt> {
    const endpoint = this.#sink.endpoint.reveal();
    if (!endpoint.expanded)
      return { kind: "fail", reason: "the config was loaded without the environment" };
    const request = new AbortController();
    const timer = new AbortController();
    let timedOut = false;
    const abort = (): void => request.abort();
    this.#closing.signal.addEventListener("abort", abort, { once: true });
    this.#opts.clock.sleep(this.#opts.timeoutMs, timer.signal).then(
      () => {
        timedOut = true;
        request.abort();
      },
      () => undefined,
    );
    try {
      const response = await this.#fetch(endpoint.url, {
        method: "POST",
        headers: requestHeaders(endpoint),
        body,
        signal: request.signal,
        redirect: "manual",
      });
      // Read within the timeout too: it frees the connection, and Slack's errors are in it.
      const text = await response.text();
      return this.#classify(response.status, response.headers, redact(text, endpoint));
    } catch (err) {
      if (this.#closing.signal.aborted) throw new Closed("closed");
      if (timedOut) return { kind: "retry", reason: `no answer within ${this.#opts.timeoutMs}ms` };
      return { kind: "retry", reason: networkReason(err) };
    } finally {
      timer.abort();
      this.#closing.signal.removeEventListener("abort", abort);
    }
  }

  #classify(status: number, headers: { get(name: string): string | null }, text: string): Attempt {
    if (status >= 200 && status < 300) return { kind: "sent", status };
    const reason = text.trim() === "" ? `HTTP ${status}` : `HTTP ${status}: ${oneLine(text)}`;
    if (status === 429) {
      const waitMs = retryAfterMs(headers.get("retry-after"), this.#opts.clock.now());
      if (waitMs !== undefined && waitMs > this.#opts.maxRetryAfterMs)
        return { kind: "fail", status, reason: `${reason} (Retry-After ${waitMs / 1000}s)` };
      return waitMs === undefined
        ? { kind: "retry", status, reason }
        : { kind: "retry", status, reason, waitMs };
    }
    if (status >= 500 || status === 408) return { kind: "retry", status, reason };
    return { kind: "fail", status, reason };
  }
}

function requestHeaders(endpoint: Endpoint): Record<string, string> {
  return {
    ...endpoint.headers,
    "content-type": "application/json",
    "user-agent": `kube-chaos-monkey/${VERSION}`,
  };
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3), in ms from now. */
export function retryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only the IMF-fixdate servers send ("Wed, 02 Dec 2026 01:02:13 GMT"): Date.parse takes far more.
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** What a log line may say about a notification: no victims, no secrets. */
function about(item: Outgoing): { event: string; target: string; round: string } {
  const { event, target, round } = item.notification;
  return { event, target, round };
}

/** The error's code (ECONNREFUSED, UND_ERR_SOCKET, …): its message may quote host and port. */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === "string" ? cause.code : undefined;
  return code ?? (err instanceof Error ? err.name : "network error");
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= REASON_CHARS ? line : `${line.slice(0, REASON_CHARS - 1)}…`;
}

/**
 * A receiver may echo the request: never let the URL, a header value or a part of one (the token
 * after "Bearer ") into a log line. Longest first, so a part never leaves the rest of a whole.
 */
function redact(text: string, endpoint: Endpoint): string {
  const url = URL.parse(endpoint.url);
  const values = Object.values(endpoint.headers);
  const secrets = [
    endpoint.url,
    url === null ? "" : `${url.pathname}${url.search}`,
    ...values,
    ...values.flatMap((v) => v.split(/\s+/)),
  ]
    .filter((s) => s.length >= 8)
    .sort((a, b) => b.length - a.length);
  return secrets.reduce((t, s) => t.replaceAll(s, "[redacted]"), text);
}
