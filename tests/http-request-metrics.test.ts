import { expect, test } from "bun:test";
import { Registry } from "prom-client";
import { HttpRequestMetrics } from "../src/http-request-metrics.ts";

test("request counts and latencies render as Prometheus counter and cumulative histogram lines", async () => {
  const registry = new Registry();
  const metrics = new HttpRequestMetrics();
  metrics.registerIn(registry);
  metrics.record("GET", "/auth/verify", "200", 0.001); // on a bound: counted in that bucket
  metrics.record("GET", "/auth/verify", "200", 0.003);
  metrics.record("GET", "/auth/verify", "401", 9);
  const lines = (await registry.metrics()).split("\n");
  const series = '{method="GET",route="/auth/verify"';
  expect(lines).toContain(`gatehouse_http_requests_total${series},status="200"} 2`);
  expect(lines).toContain(`gatehouse_http_requests_total${series},status="401"} 1`);
  const bucket = (le: string) =>
    `gatehouse_http_request_duration_seconds_bucket{le="${le}",${series.slice(1)}}`;
  expect(lines).toContain(`${bucket("0.001")} 1`);
  expect(lines).toContain(`${bucket("0.005")} 2`);
  expect(lines).toContain(`${bucket("5")} 2`);
  expect(lines).toContain(`${bucket("+Inf")} 3`);
  expect(lines).toContain(`gatehouse_http_request_duration_seconds_count${series}} 3`);
});
