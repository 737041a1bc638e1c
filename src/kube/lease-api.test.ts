import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { LeaseConflict, httpLeaseApi, microTime } from "./lease-api.js";

interface Seen {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly auth: string | undefined;
  readonly body: unknown;
}

type Answer = (res: ServerResponse) => void;

const json =
  (status: number, body: unknown): Answer =>
  (res) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };

const LEASE = {
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: { name: "chaos-monkey", namespace: "chaos", resourceVersion: "42", labels: { a: "b" } },
  spec: {
    holderIdentity: "me",
    leaseDurationSeconds: 15,
    renewTime: "2026-12-02T01:02:03.123456Z",
  },
};

let server: Server | undefined;

afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

/** A one-answer API server on localhost (the wire, not a mocked module) and a kubeconfig for it. */
async function serve(answer: Answer | undefined) {
  const seen: Seen[] = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString()));
    req.on("end", () => {
      seen.push({
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        body: text ? (JSON.parse(text) as unknown) : undefined,
      });
      answer?.(res); // undefined: never answers
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "u", token: "t0ken" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return { api: httpLeaseApi(kc, "chaos", "chaos-monkey"), seen };
}

const never = new AbortController().signal;
const PATH = "/apis/coordination.k8s.io/v1/namespaces/chaos/leases";

describe("httpLeaseApi", () => {
  it("reads the Lease with the kubeconfig's credentials", async () => {
    const { api, seen } = await serve(json(200, LEASE));
    expect(await api.read(never)).toMatchObject({
      metadata: { resourceVersion: "42" },
      spec: { holderIdentity: "me" },
    });
    expect(seen).toEqual([
      { method: "GET", url: `${PATH}/chaos-monkey`, auth: "Bearer t0ken", body: undefined },
    ]);
  });

  it("reads a missing Lease (404) as undefined", async () => {
    const { api } = await serve(json(404, { kind: "Status", code: 404 }));
    expect(await api.read(never)).toBeUndefined();
  });

  it("creates by POST to the collection", async () => {
    const { api, seen } = await serve(json(201, LEASE));
    const spec = { holderIdentity: "me", renewTime: microTime(0) };
    await api.create(spec, never);
    expect(seen[0]).toMatchObject({
      method: "POST",
      url: PATH,
      body: {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: { name: "chaos-monkey" },
        spec,
      },
    });
  });

  it("replaces by PUT with the read metadata (resourceVersion included); 409 is a LeaseConflict", async () => {
    const { api, seen } = await serve(
      json(409, { kind: "Status", code: 409, message: "the object has been modified" }),
    );
    const record = { metadata: LEASE.metadata, spec: { ...LEASE.spec, holderIdentity: "" } };
    const replaced = api.replace(record, never);
    await expect(replaced).rejects.toBeInstanceOf(LeaseConflict);
    await expect(replaced).rejects.toThrow(/the object has been modified/);
    expect(seen[0]).toMatchObject({
      method: "PUT",
      url: `${PATH}/chaos-monkey`,
      body: { metadata: LEASE.metadata, spec: record.spec },
    });
  });

  it("other refusals keep their status code", async () => {
    const { api } = await serve(json(403, { kind: "Status", code: 403, message: "forbidden" }));
    await expect(api.create({}, never)).rejects.toMatchObject({ statusCode: 403 });
  });

  it("gives up when its signal aborts", async () => {
    const { api, seen } = await serve(undefined);
    const ctl = new AbortController();
    const read = api.read(ctl.signal);
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    ctl.abort(new Error("deadline"));
    await expect(read).rejects.toThrow("deadline");
  });
});

describe("microTime", () => {
  it.each([
    [Date.UTC(2026, 11, 2, 1, 2, 3, 123) + 0.456, "2026-12-02T01:02:03.123456Z"],
    [Date.UTC(2026, 0, 1), "2026-01-01T00:00:00.000000Z"],
    [Date.UTC(2026, 0, 1) + 999.9996, "2026-01-01T00:00:01.000000Z"], // rounds into the next second
  ])("%d → %s", (ms, text) => {
    expect(microTime(ms)).toBe(text);
  });
});
