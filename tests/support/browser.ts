// A cookie-jar client that walks redirect chains the way a browser does:
// one jar per host, Location resolved against the current URL, and a map
// from the public host names the app believes in (PUBLIC_URL) to the
// 127.0.0.1 address it really listens on.

export type Hop = { url: string; status: number; location: string | null };

export class TestBrowser {
  private jars = new Map<string, Map<string, string>>();

  constructor(
    /** Host name → real origin, e.g. { "auth.example.test": "http://127.0.0.1:40123" }. */
    private readonly hosts: Record<string, string>,
    /** Browsers ask for HTML; an API client asks for JSON. */
    private readonly accept = "text/html,application/xhtml+xml,*/*;q=0.8",
  ) {}

  cookie(host: string, name: string): string | undefined {
    return this.jars.get(host)?.get(name);
  }

  setCookie(host: string, name: string, value: string): void {
    const jar = this.jars.get(host) ?? new Map<string, string>();
    jar.set(name, value);
    this.jars.set(host, jar);
  }

  deleteCookie(host: string, name: string): void {
    this.jars.get(host)?.delete(name);
  }

  cookieHeader(host: string): string {
    return [...(this.jars.get(host) ?? new Map()).entries()]
      .map(([k, v]) => `${k}=${v}`)
      .join("; ");
  }

  /** One request, no redirect following. */
  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const logical = new URL(url);
    const real = this.hosts[logical.host]
      ? new URL(`${this.hosts[logical.host]}${logical.pathname}${logical.search}`)
      : logical;
    const headers = new Headers(init.headers);
    if (!headers.has("accept")) headers.set("accept", this.accept);
    const cookies = this.cookieHeader(logical.host);
    if (cookies) headers.set("cookie", cookies);
    const response = await fetch(real, { ...init, headers, redirect: "manual" });
    for (const header of response.headers.getSetCookie()) this.store(logical.host, header);
    return response;
  }

  /** Follows redirects until a non-3xx answer, or until `stopAt` says so. */
  async follow(
    url: string,
    options: { stopAt?: (url: URL) => boolean; maxHops?: number } = {},
  ): Promise<{ response: Response; url: string; hops: Hop[] }> {
    const hops: Hop[] = [];
    let current = url;
    for (let i = 0; i < (options.maxHops ?? 15); i++) {
      const response = await this.request(current);
      const location = response.headers.get("location");
      hops.push({ url: current, status: response.status, location });
      if (response.status < 300 || response.status >= 400 || !location) {
        return { response, url: current, hops };
      }
      await response.body?.cancel();
      const next = new URL(location, current);
      if (options.stopAt?.(next)) return { response, url: current, hops };
      current = next.toString();
    }
    throw new Error(`too many redirects: ${hops.map((h) => h.url).join(" → ")}`);
  }

  private store(host: string, header: string): void {
    const [pair = "", ...attributes] = header.split(";");
    const eq = pair.indexOf("=");
    if (eq < 1) return;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expired = attributes.some((a) => {
      const [key = "", val = ""] = a.split("=").map((s) => s.trim());
      if (key.toLowerCase() === "max-age") return Number(val) <= 0;
      if (key.toLowerCase() === "expires") return new Date(val).getTime() <= Date.now();
      return false;
    });
    if (expired) this.deleteCookie(host, name);
    else this.setCookie(host, name, value);
  }
}
