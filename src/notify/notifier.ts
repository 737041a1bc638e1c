// Fans each notification out to the sinks subscribed to its event (SPEC §6b). notify() renders
// and queues, and returns at once: no round ever waits for, or fails because of, a sink.
import type { NotifySink } from "../config/types.js";
import type { ChaosNotification } from "./event.js";
import { SinkQueue } from "./sink.js";
import type { DeliveryOptions } from "./sink.js";
import { slackMessage } from "./slack.js";
import { webhookBody } from "./webhook.js";

export interface NotifierOptions extends DeliveryOptions {
  readonly sinks: readonly NotifySink[];
}

/** The request body a sink of this type gets for `n`. */
export function renderBody(type: NotifySink["type"], n: ChaosNotification): string {
  return JSON.stringify(type === "slack" ? slackMessage(n) : webhookBody(n));
}

export class Notifier {
  readonly #opts: DeliveryOptions;
  #sinks: readonly NotifySink[] = [];
  #queues = new Map<string, SinkQueue>();
  /** Queues of sinks a reload removed or changed the type of: they finish what they hold. */
  readonly #retiring = new Set<SinkQueue>();
  #closed = false;

  constructor(opts: NotifierOptions) {
    const { sinks, ...delivery } = opts;
    this.#opts = delivery;
    this.update(sinks);
  }

  /** Queues `n` for every sink subscribed to its event; never throws, never waits. */
  notify(n: ChaosNotification): void {
    for (const sink of this.#sinks) {
      if (!sink.events.includes(n.event)) continue;
      const queue = this.#queues.get(sink.name);
      if (queue === undefined) continue;
      try {
        queue.enqueue({ notification: n, body: renderBody(sink.type, n) });
      } catch (err) {
        this.#failed(sink.name, n, err);
      }
    }
  }

  /** A bug in a format (or a throwing counter) must not reach the round that announced it. */
  #failed(sink: string, n: ChaosNotification, err: unknown): void {
    try {
      this.#opts.count(sink, "failed");
      this.#opts.log.warn(
        { sink, event: n.event, target: n.target, round: n.round, err },
        "notification not queued",
      );
    } catch {
      // Nothing left to report it with.
    }
  }

  /**
   * Takes a reloaded config's sinks. A sink that keeps its name and type keeps its queue (what
   * waits is delivered to its new endpoint); one that goes away, or changes type, finishes what
   * it holds and then closes.
   */
  update(sinks: readonly NotifySink[]): void {
    const next = new Map<string, SinkQueue>();
    for (const sink of sinks) {
      const queue = this.#queues.get(sink.name);
      if (queue !== undefined && queue.type === sink.type) {
        queue.setSink(sink);
        next.set(sink.name, queue);
      } else next.set(sink.name, new SinkQueue(sink, this.#opts));
    }
    for (const [name, queue] of this.#queues)
      if (next.get(name) !== queue) {
        this.#retiring.add(queue);
        void queue.idle().then(() => {
          queue.close();
          this.#retiring.delete(queue);
        });
      }
    this.#queues = next;
    this.#sinks = sinks;
    if (this.#closed) for (const queue of next.values()) queue.close();
  }

  /**
   * Waits until every queue is empty and idle, or `timeoutMs` passed (on the injected clock),
   * whichever is first: for shutdown, before close().
   */
  async flush(timeoutMs: number): Promise<void> {
    const queues = [...this.#queues.values(), ...this.#retiring];
    const timer = new AbortController();
    try {
      await Promise.race([
        Promise.all(queues.map((q) => q.idle())),
        this.#opts.clock.sleep(timeoutMs, timer.signal).catch(() => undefined),
      ]);
    } finally {
      timer.abort();
    }
  }

  /** Stops every delivery: what is in flight is counted failed, what waits dropped. */
  close(): void {
    this.#closed = true;
    for (const queue of [...this.#queues.values(), ...this.#retiring]) queue.close();
    this.#retiring.clear();
  }
}
