import { readFile } from "node:fs/promises";
import autocannon from "autocannon";
import type { Measurement } from "./report.ts";

export type LoadRequest = {
  method?: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  body?: string;
};

export type LoadOptions = {
  baseUrl: string;
  /** The server's process id, for its RSS. */
  pid: number;
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  /** The status every response should have; others count as failures. */
  expectStatus: number;
  request: LoadRequest;
  /**
   * For scenarios whose requests differ (a random session, the next refresh
   * token): `next` builds each request just before it is sent, `onResponse`
   * sees each response body. (autocannon's per-connection context is reset
   * after every pass over its request list, so state lives in the closure.)
   */
  perRequest?: {
    next: () => LoadRequest;
    onResponse?: (status: number, body: string) => void;
  };
};

/** Resident set size of a process in MB (Linux /proc, else ps), null when neither answers. */
export async function residentMb(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // not Linux: ask ps
  }
  const ps = Bun.spawnSync(["ps", "-o", "rss=", "-p", String(pid)]);
  const kb = Number(ps.stdout.toString().trim());
  return ps.exitCode === 0 && kb > 0 ? kb / 1024 : null;
}

/**
 * CPU time (user + system) a process has used so far, in seconds, from Linux
 * /proc (clock ticks of 1/100 s); null elsewhere. Per request it is a figure
 * that the other processes on a busy machine disturb far less than req/s.
 */
export async function cpuSeconds(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[index] ?? 0;
}

type Latencies = { values: Float64Array; length: number };

function record(latencies: Latencies, ms: number) {
  if (latencies.length === latencies.values.length) {
    const grown = new Float64Array(latencies.values.length * 2);
    grown.set(latencies.values);
    latencies.values = grown;
  }
  latencies.values[latencies.length++] = ms;
}

async function drive(options: LoadOptions, seconds: number, latencies: Latencies | null) {
  const { request, perRequest } = options;
  const requests = perRequest
    ? [
        {
          setupRequest: (req: autocannon.Request) => {
            const r = perRequest.next();
            return {
              ...req,
              method: r.method ?? "GET",
              path: r.path,
              headers: { ...req.headers, ...r.headers },
              body: r.body,
            };
          },
          ...(perRequest.onResponse
            ? {
                onResponse: (status: number, body: string) => perRequest.onResponse?.(status, body),
              }
            : {}),
        },
      ]
    : undefined;
  let failures = 0;
  const result = await new Promise<autocannon.Result>((resolveRun, reject) => {
    const instance = autocannon(
      {
        // autocannon takes the path from the URL (a `path` option is ignored).
        url: `${options.baseUrl}${request.path}`,
        connections: options.connections,
        duration: seconds,
        timeout: 10,
        method: request.method ?? "GET",
        headers: request.headers,
        body: request.body,
        ...(requests ? { requests } : {}),
      } as autocannon.Options,
      (error, finished) => (error ? reject(error) : resolveRun(finished)),
    );
    // autocannon's own histogram keeps whole milliseconds; sub-millisecond
    // latencies need the float it reports per response.
    instance.on("response", (_client, status, _bytes, ms) => {
      if (status !== options.expectStatus) failures++;
      if (latencies) record(latencies, ms);
    });
  });
  return { result, failures: failures + result.errors + result.timeouts };
}

/**
 * Warm-up, then a measured load: requests/s, p50, p99, peak server RSS; and
 * how many requests the warm-up sent (for counts taken over the whole load).
 */
export async function runLoad(
  options: LoadOptions,
): Promise<Measurement & { warmupRequests: number }> {
  const warmup =
    options.warmupSeconds > 0 ? await drive(options, options.warmupSeconds, null) : null;
  let peakRss: number | null = null;
  const sampler = setInterval(async () => {
    const rss = await residentMb(options.pid);
    if (rss !== null) peakRss = Math.max(peakRss ?? 0, rss);
  }, 250);
  const latencies: Latencies = { values: new Float64Array(1 << 16), length: 0 };
  const cpuBefore = await cpuSeconds(options.pid);
  const { result, failures } = await drive(options, options.durationSeconds, latencies);
  const cpuAfter = await cpuSeconds(options.pid);
  clearInterval(sampler);
  const final = await residentMb(options.pid);
  if (final !== null) peakRss = Math.max(peakRss ?? 0, final);
  const sorted = latencies.values.subarray(0, latencies.length).sort();
  return {
    requestsPerSecond: result.requests.total / result.duration,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    rssMb: peakRss,
    cpuUsPerRequest:
      cpuBefore === null || cpuAfter === null || result.requests.total === 0
        ? null
        : ((cpuAfter - cpuBefore) * 1e6) / result.requests.total,
    requests: result.requests.total,
    failures,
    warmupRequests: warmup?.result.requests.total ?? 0,
  };
}
