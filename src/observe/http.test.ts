import { request } from "node:http";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { parseListen, startHttpServer, type HttpServer } from "./http.js";
import { createLogger } from "./logger.js";
import { createMetrics } from "./metrics.js";

const log = createLogger({ level: "silent", format: "json" });

describe("parseListen", () => {
  it.each([
    [":8080", undefined, 8080],
    [":0", undefined, 0],
    ["127.0.0.1:0", "127.0.0.1", 0],
    ["0.0.0.0:9090", "0.0.0.0", 9090],
    ["[::1]:9090", "::1", 9090],
    ["[::]:8080", "::", 8080],
    ["[fe80::1]:65535", "fe80::1", 65535],
    ["localhost:8080", "localhost", 8080],
    ["metrics.svc.cluster.local:80", "metrics.svc.cluster.local", 80],
  ])("%s → host %s, port %i", (s, host, port) => {
    expect(parseListen(s)).toEqual({ host, port });
  });

  it.each([
    ["", "expected [host]:port"],
    ["8080", "expected [host]:port"],
    ["localhost", "expected [host]:port"],
    [":", "port must be"],
    [":http", "port must be"],
    [":-1", "port must be"],
    [":65536", "port must be"],
    [":123456", "port must be"],
    [":80 ", "port must be"],
    [": 80", "port must be"],
    [":8.5", "port must be"],
    ["::1:9090", "an IPv6 host must be in brackets"],
    ["[127.0.0.1]:80", "brackets must hold an IPv6 address"],
    ["[]:80", "brackets must hold an IPv6 address"],
    ["[::1:80", "an IPv6 host must be in brackets"],
    ["bad host:80", "host is not a valid name"],
    ["-lead.example:80", "host is not a valid name"],
    ["a..b:80", "host is not a valid name"],
  ])("rejects %j (%s), naming the value", (s, why) => {
    expect(() => parseListen(s)).toThrow(Error);
    expect(() => parseListen(s)).toThrow(`invalid listen address ${JSON.stringify(s)}: ${why}`);
  });
});

describe("startHttpServer", () => {
  let server: HttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  interface Probes {
    healthy: boolean;
    ready: boolean;
  }

  async function start(probes: Probes = { healthy: true, ready: true }): Promise<{
    url: (path: string) => string;
    registry: Registry;
  }> {
    const registry = new Registry();
    createMetrics({ registry, version: "9.9.9" }).roundRan("web");
    server = await startHttpServer({
      listen: "127.0.0.1:0",
      registry,
      healthy: () => probes.healthy,
      ready: () => probes.ready,
      log,
    });
    const { host, port } = server.address;
    return { url: (path) => `http://${host}:${port}${path}`, registry };
  }

  it("binds the requested loopback address on an ephemeral port", async () => {
    await start();
    expect(server?.address.host).toBe("127.0.0.1");
    expect(server?.address.port).toBeGreaterThan(0);
  });

  it("serves /metrics in the registry's format", async () => {
    const { url, registry } = await start();
    const res = await fetch(url("/metrics"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(registry.contentType);
    const body = await res.text();
    expect(body).toContain('chaos_monkey_build_info{version="9.9.9"} 1');
    expect(body).toContain('chaos_monkey_rounds_total{target="web",outcome="ran"} 1');
  });

  it("ignores a query string", async () => {
    const { url } = await start();
    expect((await fetch(url("/metrics?debug=1"))).status).toBe(200);
  });

  it("answers /metrics errors with 500 and keeps serving", async () => {
    const { url, registry } = await start();
    const { Gauge } = await import("prom-client");
    new Gauge({
      name: "broken",
      help: "throws on collect",
      registers: [registry],
      collect() {
        throw new Error("collect failed");
      },
    });
    const res = await fetch(url("/metrics"));
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain("collect failed");
    expect((await fetch(url("/healthz"))).status).toBe(200);
  });

  it.each([
    ["/healthz", "healthy"],
    ["/readyz", "ready"],
  ] as const)("%s follows the %s check on every request", async (path, key) => {
    const probes = { healthy: true, ready: true };
    const { url } = await start(probes);

    let res = await fetch(url(path));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("ok\n");

    probes[key] = false;
    res = await fetch(url(path));
    expect(res.status).toBe(503);
    await res.text();

    probes[key] = true;
    res = await fetch(url(path));
    expect(res.status).toBe(200);
    await res.text();
  });

  it("keeps health and readiness independent", async () => {
    const { url } = await start({ healthy: true, ready: false });
    expect((await fetch(url("/healthz"))).status).toBe(200);
    expect((await fetch(url("/readyz"))).status).toBe(503);
  });

  it("answers a probe that throws with 500", async () => {
    const registry = new Registry();
    server = await startHttpServer({
      listen: "127.0.0.1:0",
      registry,
      healthy: () => {
        throw new Error("loop state unknown");
      },
      ready: () => true,
      log,
    });
    const res = await fetch(`http://127.0.0.1:${server.address.port}/healthz`);
    expect(res.status).toBe(500);
  });

  it("answers HEAD with headers and no body", async () => {
    const { url } = await start();
    const res = await fetch(url("/readyz"), { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
  });

  it.each(["/", "/debug/pprof", "/metrics/", "/healthz/x", "/METRICS", "/admin", "/favicon.ico"])(
    "404 for %s",
    async (path) => {
      const { url } = await start();
      const res = await fetch(url(path));
      expect(res.status).toBe(404);
      await res.text();
    },
  );

  it("404 for an absolute-form request target", async () => {
    await start();
    const status = await rawStatus(server, "http://127.0.0.1/metrics");
    expect(status).toBe(404);
  });

  it.each(["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])(
    "405 with Allow for %s on a served path",
    async (method) => {
      const { url } = await start();
      for (const path of ["/metrics", "/healthz", "/readyz"]) {
        const res = await fetch(url(path), { method });
        expect(res.status, path).toBe(405);
        expect(res.headers.get("allow")).toBe("GET, HEAD");
        await res.text();
      }
    },
  );

  it("404 rather than 405 for other methods on unknown paths", async () => {
    const { url } = await start();
    const res = await fetch(url("/shutdown"), { method: "POST", body: "now" });
    expect(res.status).toBe(404);
    await res.text();
  });

  it("close() resolves despite an idle keep-alive connection, and stops serving", async () => {
    const { url } = await start();
    const res = await fetch(url("/healthz"), { headers: { connection: "keep-alive" } });
    await res.text();
    const current = server;
    server = undefined;
    await current?.close();
    await expect(fetch(url("/healthz"))).rejects.toThrow();
  });

  it("close() twice is harmless", async () => {
    await start();
    const current = server;
    server = undefined;
    await current?.close();
    await expect(current?.close()).resolves.toBeUndefined();
  });

  it("rejects an invalid listen string before binding", async () => {
    await expect(
      startHttpServer({
        listen: "nope",
        registry: new Registry(),
        healthy: () => true,
        ready: () => true,
        log,
      }),
    ).rejects.toThrow('invalid listen address "nope"');
  });

  it("rejects a port already in use, naming the listen value", async () => {
    await start();
    const listen = `127.0.0.1:${server?.address.port}`;
    await expect(
      startHttpServer({
        listen,
        registry: new Registry(),
        healthy: () => true,
        ready: () => true,
        log,
      }),
    ).rejects.toThrow(`cannot listen on "${listen}"`);
  });
});

/** Sends a request with a raw request target, which fetch would normalise away. */
function rawStatus(server: HttpServer | undefined, target: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: server?.address.port, path: target, agent: false },
      (res) => {
        res.resume();
        resolve(res.statusCode);
      },
    );
    req.on("error", reject);
    req.end();
  });
}
