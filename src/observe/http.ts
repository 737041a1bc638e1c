// The only network surface of the process: three read-only endpoints and nothing else. It is
// unauthenticated, so it must never grow a debug or admin route (SPEC §4).
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isIP, isIPv6 } from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "./logger.js";

export interface ListenAddress {
  /** undefined: every interface. */
  host: string | undefined;
  port: number;
}

export interface HttpServerOptions {
  /** `[host]:port`, e.g. ":8080", "127.0.0.1:0", "[::1]:9090". */
  listen: string;
  registry: Registry;
  /** The scheduler loop is alive. */
  healthy: () => boolean;
  /** Config loaded and caches synced. */
  ready: () => boolean;
  log: Logger;
}

export interface HttpServer {
  address: { host: string; port: number };
  /** Stops accepting, drops idle keep-alive connections, resolves once open requests finish. */
  close(): Promise<void>;
}

const HOSTNAME =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const PORT = /^\d{1,5}$/;

/** Parses a `--listen` value the way Go's net.Listen reads `host:port`. */
export function parseListen(s: string): ListenAddress {
  const fail = (why: string): never => {
    throw new Error(`invalid listen address ${JSON.stringify(s)}: ${why}`);
  };
  const colon = s.lastIndexOf(":");
  if (colon < 0) return fail("expected [host]:port, e.g. :8080");
  const rawHost = s.slice(0, colon);
  const rawPort = s.slice(colon + 1);
  const port = Number(rawPort);
  if (!PORT.test(rawPort) || port > 65535) return fail("port must be a number from 0 to 65535");
  if (rawHost === "") return { host: undefined, port };
  if (rawHost.startsWith("[") && rawHost.endsWith("]")) {
    const inner = rawHost.slice(1, -1);
    return isIPv6(inner) ? { host: inner, port } : fail("brackets must hold an IPv6 address");
  }
  if (rawHost.includes(":")) return fail("an IPv6 host must be in brackets, e.g. [::1]:8080");
  if (isIP(rawHost) === 0 && !HOSTNAME.test(rawHost)) return fail("host is not a valid name");
  return { host: rawHost, port };
}

type Route = (res: ServerResponse) => void | Promise<void>;

export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const { host, port } = parseListen(opts.listen);
  const { registry, log } = opts;
  const routes = new Map<string, Route>([
    ["/metrics", (res) => serveMetrics(res, registry)],
    ["/healthz", (res) => serveProbe(res, opts.healthy, "unhealthy")],
    ["/readyz", (res) => serveProbe(res, opts.ready, "not ready")],
  ]);

  const server = createServer((req, res) => {
    handle(req, res, routes).catch((err: unknown) => {
      log.error({ err, path: req.url }, "http request failed");
      if (!res.headersSent) send(res, 500, "internal error\n");
      else res.destroy();
    });
  });
  // Slow or idle clients must not hold sockets open on an unauthenticated port.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  await listen(server, host, port, opts.listen);
  const bound = server.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  log.info({ host: address.host, port: address.port }, "http server listening");

  let closing: Promise<void> | undefined;
  return {
    address,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  routes: ReadonlyMap<string, Route>,
): Promise<void> {
  // Query strings are ignored; absolute-form and "*" targets match no route.
  const path = (req.url ?? "").split("?", 1)[0] ?? "";
  const route = routes.get(path);
  if (route === undefined) return send(res, 404, "not found\n");
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    return send(res, 405, "method not allowed\n");
  }
  await route(res);
}

async function serveMetrics(res: ServerResponse, registry: Registry): Promise<void> {
  const body = await registry.metrics();
  send(res, 200, body, registry.contentType);
}

function serveProbe(res: ServerResponse, check: () => boolean, failure: string): void {
  if (check()) send(res, 200, "ok\n");
  else send(res, 503, `${failure}\n`);
}

// Node drops the body of HEAD responses itself, keeping the headers a GET would have sent.
function send(res: ServerResponse, status: number, body: string, contentType = "text/plain"): void {
  res.writeHead(status, {
    "Content-Type": contentType.includes("charset") ? contentType : `${contentType}; charset=utf-8`,
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
  });
  res.end(body);
}

function listen(
  server: Server,
  host: string | undefined,
  port: number,
  raw: string,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(new Error(`cannot listen on ${JSON.stringify(raw)}: ${err.message}`, { cause: err }));
    };
    server.once("error", onError);
    server.listen({ host, port }, () => {
      server.off("error", onError);
      resolve();
    });
  });
}
