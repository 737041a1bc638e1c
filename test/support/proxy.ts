// A loopback TCP proxy in front of the API server that can cut every connection through it at
// once, as a load balancer restart or a flaky network would, or stop forwarding while keeping
// connections open, as a partition does (requests hang, nothing fails). Bytes pass untouched (TLS ends at
// the API server, whose certificate names 127.0.0.1, so a client needs no other server name).
import { connect, createServer } from "node:net";
import type { Server, Socket } from "node:net";

export class TcpProxy {
  private readonly pairs = new Set<[Socket, Socket]>();
  private readonly server: Server;
  private frozen = false;
  /** Client connections accepted so far. */
  connections = 0;
  port = 0;

  private constructor(target: URL) {
    this.server = createServer((client) =>
      this.accept(client, target.hostname, Number(target.port)),
    );
  }

  /** Listens on 127.0.0.1 (a free port) and forwards to `target` (an https:// or tcp URL). */
  static async start(target: string): Promise<TcpProxy> {
    const proxy = new TcpProxy(new URL(target));
    await new Promise<void>((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    const addr = proxy.server.address();
    if (typeof addr !== "object" || !addr) throw new Error("proxy has no address");
    proxy.port = addr.port;
    return proxy;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  private accept(client: Socket, host: string, port: number): void {
    this.connections++;
    const upstream = connect({ host, port });
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) s.on("error", end).on("close", end);
    if (this.frozen) for (const s of pair) s.pause();
    else connectPair(pair);
  }

  /** Stops moving bytes either way; connections stay open and new ones are accepted. */
  freeze(): void {
    this.frozen = true;
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream).pause();
      upstream.unpipe(client).pause();
    }
  }

  thaw(): void {
    this.frozen = false;
    for (const pair of this.pairs) connectPair(pair);
  }

  /** Cuts every open connection, both sides; returns how many there were. */
  dropAll(): number {
    const n = this.pairs.size;
    for (const [client, upstream] of [...this.pairs]) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    return n;
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function connectPair([client, upstream]: [Socket, Socket]): void {
  client.pipe(upstream);
  upstream.pipe(client);
}
