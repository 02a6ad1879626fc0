import type { Socket, TCPSocketListener } from "bun";

/** Per client connection: its upstream, bytes waiting for it, and whether it is black-holed. */
type Carried = { upstream?: Socket; pending: Uint8Array[]; deaf: boolean };

/**
 * A TCP forwarder to the test database that a test can cut and restore, to
 * see how the app behaves while PostgreSQL is unreachable, or black-hole,
 * as a half-open connection behaves. `fromServer` may rewrite what the
 * database sends (one per connection, fed the bytes in order).
 */
export async function startTcpProxy(
  target: { host: string; port: number },
  { fromServer }: { fromServer?: () => (chunk: Uint8Array) => Uint8Array } = {},
) {
  let listener: TCPSocketListener<Carried> | null = null;
  const open = new Set<Socket<Carried>>();
  let port = 0;
  let blackholed = false;

  const listen = () => {
    listener = Bun.listen<Carried>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(client) {
          client.data = { pending: [], deaf: blackholed };
          open.add(client);
          const rewrite = fromServer?.() ?? ((chunk: Uint8Array) => chunk);
          Bun.connect({
            hostname: target.host,
            port: target.port,
            socket: {
              open(upstream) {
                client.data.upstream = upstream;
                for (const chunk of client.data.pending) upstream.write(chunk);
                client.data.pending = [];
              },
              data(_upstream, chunk) {
                if (!client.data.deaf) client.write(rewrite(chunk));
              },
              close() {
                client.end();
              },
              error() {
                client.end();
              },
            },
          }).catch(() => client.end());
        },
        data(client, chunk) {
          if (client.data.deaf) return;
          if (client.data.upstream) client.data.upstream.write(chunk);
          else client.data.pending.push(new Uint8Array(chunk));
        },
        close(client) {
          open.delete(client);
          client.data.upstream?.end();
        },
      },
    });
    port = listener.port;
  };
  listen();

  return {
    get port() {
      return port;
    },
    /** Stops listening and drops every open connection. */
    cut() {
      listener?.stop(true);
      listener = null;
      for (const client of open) {
        client.data.upstream?.end();
        client.end();
      }
      open.clear();
    },
    /**
     * Every byte either way is dropped from now on, and no connection is
     * closed: a peer that vanished without a word, as behind a NAT that
     * forgot the connection.
     */
    blackhole() {
      blackholed = true;
      for (const client of open) client.data.deaf = true;
    },
    /** New connections work again; those black-holed stay so until closed. */
    unblackhole() {
      blackholed = false;
    },
    /** Listens again on the same port. */
    restore() {
      if (!listener) listen();
    },
    close() {
      this.cut();
    },
  };
}

/**
 * A `fromServer` rewriter that drops PostgreSQL's NotificationResponse
 * messages ('A') and passes every other message whole: a connection that
 * LISTENs without error and yet never hears, as through a pooler in
 * transaction mode. The server's side of the protocol is framed throughout
 * (no SSL negotiation in tests): a type byte, then a length that counts itself.
 */
export function dropNotifications(
  /** Drops only while this says so (from the start by default). */
  dropping: () => boolean = () => true,
): (chunk: Uint8Array) => Uint8Array {
  let held = Buffer.alloc(0);
  return (chunk) => {
    held = Buffer.concat([held, chunk]);
    const kept: Buffer[] = [];
    let at = 0;
    while (held.length - at >= 5) {
      const end = at + 1 + held.readInt32BE(at + 1);
      if (held.length < end) break;
      if (held[at] !== 0x41 || !dropping()) kept.push(held.subarray(at, end));
      at = end;
    }
    held = held.subarray(at);
    return Buffer.concat(kept);
  };
}

/** A proxy to the database at `databaseUrl`, and the URL that reaches the database through it. */
export async function proxyDatabase(databaseUrl: string) {
  const target = new URL(databaseUrl);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
  const proxied = new URL(databaseUrl);
  proxied.port = String(proxy.port);
  return { proxy, url: proxied.toString() };
}
