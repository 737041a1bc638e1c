// The watch cache against a scripted API server on loopback: what it does when a watch answers
// 410 Gone (its resourceVersion was compacted away, as after an API server restart).
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { KubeConfig } from "@kubernetes/client-node";
import seedrandom from "seedrandom";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../clock.js";
import { Informer } from "./informer.js";

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

let server: Server | undefined;

async function fakeApi(handler: Handler): Promise<KubeConfig> {
  server = createServer((req, res) => handler(req, res, new URL(req.url ?? "/", "http://x")));
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  if (typeof addr !== "object" || !addr) throw new Error("no address");
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "fake", server: `http://127.0.0.1:${addr.port}`, skipTLSVerify: true }],
    users: [{ name: "u" }],
    contexts: [{ name: "fake", cluster: "fake", user: "u" }],
    currentContext: "fake",
  });
  return kc;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

const list = (rv: string) =>
  JSON.stringify({
    items: [{ metadata: { name: "a", namespace: "ns", resourceVersion: rv } }],
    metadata: { resourceVersion: rv },
  });

const gone = JSON.stringify({
  type: "ERROR",
  object: { kind: "Status", status: "Failure", reason: "Expired", code: 410 },
});

describe("Informer", () => {
  it("is not synced from the moment a watch answers 410 Gone until its relist completes", async () => {
    const lists: (() => void)[] = [];
    const watches: string[] = [];
    const kc = await fakeApi((_req, res, url) => {
      res.setHeader("content-type", "application/json");
      if (url.searchParams.get("watch") !== "true") {
        // The first list answers at once; the relist waits until the test lets it through.
        const body = list(lists.length === 0 ? "10" : "20");
        const answer = () => res.end(body);
        if (lists.push(answer) === 1) answer();
        return;
      }
      const rv = url.searchParams.get("resourceVersion") ?? "";
      watches.push(rv);
      res.writeHead(200);
      // The first watch is told its version is gone; the one after the relist stays open.
      if (rv === "10") res.end(`${gone}\n`);
      else res.write("");
    });
    const inf = new Informer({
      kc,
      path: "/api/v1/namespaces/ns/configmaps",
      clock: systemClock,
      rng: seedrandom("410"),
    });
    inf.start();
    try {
      await inf.waitForSync();
      await until(() => lists.length === 2);
      console.log("c"); // the relist after the 410 is waiting
      expect(watches).toEqual(["10"]);
      expect(inf.synced).toBe(false);
      lists[1]?.();
      await inf.waitForSync();
      expect(watches).toEqual(["10", "20"]);
      expect(inf.get("ns", "a")?.metadata?.resourceVersion).toBe("20");
    } finally {
      await inf.stop();
    }
  });
});

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 500) throw new Error("condition not reached in 5 s");
    await new Promise((r) => setTimeout(r, 10));
  }
}
