import type { Metric, Registry } from "prom-client";

// HTTP request counts and latencies, kept as plain numbers per series on the
// request path and turned into Prometheus samples only when /metrics is
// scraped. prom-client hashes the label set on every increment and
// observation, even through a bound series, which was a measurable share of
// a forward-auth answer; here a request costs two map lookups and a few
// additions.

const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** One line of the exposition: `metricName` when it is not the metric's own (histogram parts). */
type Sample = {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
};

type Series = {
  method: string;
  route: string;
  byStatus: Map<string, number>;
  /** Observations per bucket (not cumulative), the last one past every bound. */
  inBucket: number[];
  sum: number;
};

export class HttpRequestMetrics {
  private readonly series = new Map<string, Series>();

  record(method: string, route: string, status: string, seconds: number): void {
    const key = `${method} ${route}`;
    let series = this.series.get(key);
    if (!series) {
      series = { method, route, byStatus: new Map(), inBucket: buckets.map(() => 0), sum: 0 };
      series.inBucket.push(0);
      this.series.set(key, series);
    }
    series.byStatus.set(status, (series.byStatus.get(status) ?? 0) + 1);
    let bucket = 0;
    while (bucket < buckets.length && seconds > (buckets[bucket] as number)) bucket++;
    series.inBucket[bucket] = (series.inBucket[bucket] ?? 0) + 1;
    series.sum += seconds;
  }

  /** Registers the two metrics, rendered from the counts at each scrape. */
  registerIn(registry: Registry): void {
    registry.registerMetric(
      scraped(
        "gatehouse_http_requests_total",
        "counter",
        "HTTP requests answered, by method, route pattern and status.",
        () =>
          [...this.series.values()].flatMap(({ method, route, byStatus }) =>
            [...byStatus].map(([status, value]) => ({ labels: { method, route, status }, value })),
          ),
      ),
    );
    registry.registerMetric(
      scraped(
        "gatehouse_http_request_duration_seconds",
        "histogram",
        "Time to answer an HTTP request, by method and route pattern.",
        () => [...this.series.values()].flatMap(histogramSamples),
      ),
    );
  }
}

function histogramSamples({ method, route, inBucket, sum }: Series): Sample[] {
  const name = "gatehouse_http_request_duration_seconds";
  let cumulative = 0;
  const samples: Sample[] = inBucket.map((count, i) => {
    cumulative += count;
    const le = i < buckets.length ? (buckets[i] as number) : "+Inf";
    return { metricName: `${name}_bucket`, labels: { le, method, route }, value: cumulative };
  });
  samples.push({ metricName: `${name}_sum`, labels: { method, route }, value: sum });
  samples.push({ metricName: `${name}_count`, labels: { method, route }, value: cumulative });
  return samples;
}

/** A metric prom-client's registry renders by asking `values` at scrape time. */
export function scraped(
  name: string,
  type: "counter" | "histogram",
  help: string,
  values: () => Sample[],
): Metric<string> {
  const metric = {
    name,
    help,
    type,
    aggregator: "sum",
    get: async () => ({
      name,
      help,
      type,
      aggregator: "sum",
      values: values(),
    }),
    reset: () => {},
  };
  // The shape prom-client's registry reads (name, help, type, get); the
  // rest of its Metric class is not used for rendering.
  return metric as unknown as Metric<string>;
}
