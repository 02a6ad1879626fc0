// Routes the test process's outbound requests for the real providers' hosts
// to a local fake, by replacing globalThis.fetch for this test process only.
// The application code still calls https://github.com/... as in production.

const originalFetch = globalThis.fetch;

/** Sends https://<host>/<path> for each of `hosts` to `<target>/<host>/<path>`; other URLs pass. */
export function routeHostsTo(target: string, hosts: readonly string[]): () => void {
  const routed = new Set(hosts);
  const rewrite = (url: URL) =>
    routed.has(url.hostname) ? `${target}/${url.hostname}${url.pathname}${url.search}` : null;
  const previous = globalThis.fetch;
  const routing = (async (input: string | URL | Request, init?: RequestInit) => {
    if (input instanceof Request) {
      const target = rewrite(new URL(input.url));
      return previous(target ? new Request(target, input) : input, init);
    }
    const parsed = URL.canParse(String(input)) ? new URL(String(input)) : null;
    return previous((parsed && rewrite(parsed)) ?? input, init);
  }) as typeof fetch;
  routing.preconnect = originalFetch.preconnect;
  globalThis.fetch = routing;
  return () => {
    globalThis.fetch = previous;
  };
}

export const socialProviderHosts = [
  "github.com",
  "api.github.com",
  "accounts.google.com",
  "oauth2.googleapis.com",
  "www.googleapis.com",
  "x.com",
  "api.twitter.com",
] as const;
