import type { Socket, TCPSocketListener } from "bun";

/**
 * A TCP forwarder to the test database that a test can cut and restore, to
 * see how the app behaves while PostgreSQL is unreachable.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  let listener: TCPSocketListener<{ upstream?: Socket; pending: Uint8Array[] }> | null = null;
  const open = new Set<Socket<{ upstream?: Socket; pending: Uint8Array[] }>>();
  let port = 0;

  const listen = () => {
    listener = Bun.listen<{ upstream?: Socket; pending: Uint8Array[] }>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(client) {
          client.data = { pending: [] };
          open.add(client);
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
                client.write(chunk);
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
    /** Listens again on the same port. */
    restore() {
      if (!listener) listen();
    },
    close() {
      this.cut();
    },
  };
}
