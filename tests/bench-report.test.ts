import { describe, expect, test } from "bun:test";
import { parseBenchOptions, UsageError } from "../bench/options.ts";
import {
  checkTargets,
  formatHotPathTable,
  formatScaleTable,
  type HotPathReport,
  type Measurement,
  p99Growth,
  peerIds,
  ratio,
  type ScaleStep,
  type ScenarioResult,
} from "../bench/report.ts";

// The bench's own pieces, without running a load: its arguments, its ratios
// and its tables. No figure here is a speed claim.

const measured = (id: string, requestsPerSecond: number, extra: Partial<ScenarioResult> = {}) =>
  ({
    id,
    label: id,
    kind: "gatehouse",
    outcome: "measured",
    measurement: {
      requestsPerSecond,
      p50Ms: 1.234,
      p99Ms: 5.678,
      rssMb: 80.4,
      cpuUsPerRequest: 312.4,
      requests: requestsPerSecond * 10,
      failures: 0,
    },
    ...extra,
  }) satisfies ScenarioResult;

const results: ScenarioResult[] = [
  measured("ceiling-json", 20_000, { kind: "ceiling" }),
  measured("ceiling-pg", 10_000, { kind: "ceiling" }),
  measured(peerIds.noCache, 1_000, { kind: "peer" }),
  measured(peerIds.cookieCache, 4_000, { kind: "peer" }),
  measured("verify-cookie", 8_000, { ceiling: "ceiling-pg", comparePeer: true }),
  {
    id: "verify-bearer",
    label: "bearer",
    kind: "gatehouse",
    outcome: "skipped",
    note: "not built yet",
    ceiling: "ceiling-json",
  },
];

describe("bench options", () => {
  test("no arguments is the full hot-path run", () => {
    expect(parseBenchOptions([])).toMatchObject({
      mode: "hot-paths",
      quick: false,
      durationSeconds: 10,
    });
  });

  test("--quick shortens every load; scale --big is accepted", () => {
    expect(parseBenchOptions(["--quick"]).durationSeconds).toBe(1);
    expect(parseBenchOptions(["scale", "--big"])).toMatchObject({ mode: "scale", big: true });
  });

  test("unknown arguments and --big without scale are usage errors", () => {
    expect(() => parseBenchOptions(["--fast"])).toThrow(UsageError);
    expect(() => parseBenchOptions(["--big"])).toThrow(UsageError);
    expect(() => parseBenchOptions(["--duration", "zero"])).toThrow(UsageError);
  });
});

describe("bench report", () => {
  test("ratios divide request rates and are null when a side was not measured", () => {
    expect(ratio(results, "verify-cookie", "ceiling-pg")).toBeCloseTo(0.8);
    expect(ratio(results, "verify-bearer", "ceiling-json")).toBeNull();
  });

  test("targets are judged on the ratios of the same run", () => {
    const targets = checkTargets(results);
    const byText = (fragment: string) => targets.find((t) => t.target.includes(fragment));
    expect(byText("0.7×")).toMatchObject({ met: true });
    expect(byText("stretch")).toMatchObject({ met: false });
    expect(byText("5×")).toMatchObject({ ratio: 8, met: true });
    expect(byText("2×")).toMatchObject({ ratio: 2, met: true });
    expect(byText("bearer")).toMatchObject({ ratio: null, met: null });
  });

  test("the table has a row per scenario with its figures, ratios and skip notes", () => {
    const report: HotPathReport = {
      kind: "hot-paths",
      date: "2026-11-23T00:00:00.000Z",
      quick: false,
      machine: {
        cores: 2,
        cpu: "test",
        memoryGb: 4,
        os: "linux",
        bun: "1.4.5",
        postgres: "18.4",
        database: "embedded",
      },
      settings: { durationSeconds: 10, warmupSeconds: 2, connections: 32 },
      results,
      targets: checkTargets(results),
    };
    const lines = formatHotPathTable(report).split("\n");
    expect(lines).toHaveLength(2 + results.length);
    expect(lines.find((l) => l.startsWith("| verify-cookie |"))).toBe(
      "| verify-cookie | 8,000 | 1.23 | 5.68 | 312 | 80 | 0.80× raw pg | 8.00× | 2.00× |",
    );
    expect(lines.find((l) => l.startsWith("| bearer |"))).toContain("skipped: not built yet");
  });

  test("scale: p99 growth compares the largest step with the smallest", () => {
    const load = (p99Ms: number): Measurement => ({
      requestsPerSecond: 1000,
      p50Ms: 1,
      p99Ms,
      rssMb: null,
      cpuUsPerRequest: null,
      requests: 10_000,
      failures: 0,
    });
    const step = (sessions: number, p99Ms: number): ScaleStep => ({
      sessions,
      auditEvents: sessions,
      fillSeconds: 1,
      route: "/auth/verify",
      load: load(p99Ms),
      cleanup: { removed: sessions / 10, seconds: 0.5, batches: 3, longestBatchMs: 40 },
      retention: { rowsPerMonth: sessions / 10, dropPartitionMs: 3, deleteRowsMs: 90 },
    });
    const steps = [step(10_000, 4), step(100_000, 5), step(1_000_000, 6)];
    expect(p99Growth(steps)).toBeCloseTo(1.5);
    expect(formatScaleTable(steps).split("\n")[4]).toContain("| 1,000,000 | 1,000,000 |");
  });
});
