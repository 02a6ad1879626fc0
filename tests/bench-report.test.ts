import { describe, expect, test } from "bun:test";
import { parseBenchOptions, UsageError } from "../bench/options.ts";
import {
  checkTargets,
  formatCount,
  formatHotPathReport,
  formatHotPathTable,
  formatManySessionsTable,
  formatScaleTable,
  formatTargets,
  type HotPathReport,
  type Machine,
  type Measurement,
  manyIds,
  p99Growth,
  peerIds,
  ratio,
  type ScaleStep,
  type ScenarioResult,
} from "../bench/report.ts";
import {
  filledForLive,
  liveSessionNumber,
  uniformPicker,
  zipfPicker,
} from "../bench/session-picks.ts";

/** The machine every report here was measured on. */
const machine: Machine = {
  cores: 2,
  cpu: "test",
  memoryGb: 4,
  os: "linux",
  bun: "1.4.5",
  postgres: "18.4",
  database: "embedded",
};

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
    expect(byText("best case: forward-auth (cookie, one session) ≥ 0.7×")).toMatchObject({
      met: true,
    });
    expect(byText("stretch")).toMatchObject({ met: false });
    expect(byText("one session) ≥ 5×")).toMatchObject({ ratio: 8, met: true });
    expect(byText("one session) ≥ 2×")).toMatchObject({ ratio: 2, met: true });
    expect(byText("bearer, one token")).toMatchObject({ ratio: null, met: null });
  });

  test("without many-users rows their targets say not measured rather than met", () => {
    const targets = checkTargets(results);
    const many = targets.filter((t) => t.target.includes("10^6"));
    expect(many).toHaveLength(5);
    for (const t of many) expect(t).toMatchObject({ ratio: null, met: null });
    expect(formatTargets(many)).toContain("→ not measured");
  });

  test("the table has a row per scenario with its figures, ratios and skip notes", () => {
    const report: HotPathReport = {
      kind: "hot-paths",
      date: "2026-11-23T00:00:00.000Z",
      quick: false,
      machine,
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

  describe("many users", () => {
    const ids = (n: number) => manyIds(n);
    const withP99 = (row: ScenarioResult, p99Ms: number): ScenarioResult => ({
      ...row,
      measurement: {
        ...(row.measurement as Measurement),
        p99Ms,
        sessionReadsPerRequest: 0.93,
        statementsPerRequest: 0.25,
      },
    });
    const at = (n: number, cookie: number, bearer: number, p99: number): ScenarioResult[] => [
      measured(ids(n).ceilingPg, 10_000, { kind: "ceiling", sessions: n }),
      withP99(
        measured(ids(n).cookie, cookie, {
          sessions: n,
          ceiling: ids(n).ceilingPg,
          peerRows: { noCache: ids(n).peerNoCache, cookieCache: ids(n).peerCookieCache },
        }),
        p99,
      ),
      withP99(measured(ids(n).bearer, bearer, { sessions: n, ceiling: ids(n).ceilingPg }), p99),
      measured(ids(n).peerNoCache, 1_000, { kind: "peer", sessions: n }),
      measured(ids(n).peerCookieCache, 2_000, { kind: "peer", sessions: n }),
    ];
    const many = [
      measured("ceiling-json", 20_000, { kind: "ceiling" }),
      measured("verify-bearer", 17_000, { ceiling: "ceiling-json" }),
      ...at(10_000, 9_000, 9_500, 4),
      ...at(1_000_000, 7_500, 6_000, 7),
    ];
    const report = (rows: ScenarioResult[]): HotPathReport => ({
      kind: "hot-paths",
      date: "2026-12-03T00:00:00.000Z",
      quick: false,
      machine,
      settings: { durationSeconds: 10, warmupSeconds: 5, connections: 32 },
      results: rows,
      targets: checkTargets(rows),
    });

    test("the targets compare the largest size with its own ceiling, peer and smallest size", () => {
      const targets = checkTargets(many);
      const byText = (fragment: string) => targets.find((t) => t.target.includes(fragment));
      for (const [fragment, ratio, met] of [
        ["(cookie, random among 10^6 sessions) ≥ 0.7× raw pg", 0.75, true],
        ["(cookie, random among 10^6 sessions) ≥ 5× better-auth", 7.5, true],
        ["bearer, one token: cached) ≥ 0.8×", 0.85, true],
        ["bearer, random among 10^6 sessions: uncached", 0.6, false],
      ] as const) {
        expect(byText(fragment), fragment).toMatchObject({ ratio, met });
      }
      const cookieP99 = byText("(cookie) p99 at 10^6 sessions ≤ 1.5× p99 at 10^4");
      expect(cookieP99?.ratio).toBeCloseTo(1.75);
      expect(cookieP99).toMatchObject({ atMost: 1.5, met: false });
    });

    test("the report prints both tables and judges the many-users targets before the best case", () => {
      const text = formatHotPathReport(report(many));
      const manyTable = text.indexOf("| scenario | live sessions |");
      expect(text.indexOf("| scenario | req/s |")).toBeLessThan(manyTable);
      const firstTarget = text.indexOf("- forward-auth (cookie, random among 10^6 sessions)");
      expect(firstTarget).toBeGreaterThan(manyTable);
      expect(firstTarget).toBeLessThan(text.indexOf("- best case:"));
      expect(text).toContain("≤ 1.5× p99 at 10^4: 1.75× → missed");
    });

    test("a p99 ratio at its bound meets it; one above misses", () => {
      const rows = [...at(10_000, 9_000, 9_000, 4), ...at(1_000_000, 9_000, 9_000, 6)];
      const growth = checkTargets(rows).find((t) => t.target.includes("(bearer) p99"));
      expect(ratio(rows, ids(1_000_000).bearer, ids(10_000).bearer, "p99Ms")).toBe(1.5);
      expect(growth).toMatchObject({ ratio: 1.5, met: true });
    });

    test("their own table shows the session count, reads and statements per request and same-size ratios", () => {
      const lines = formatManySessionsTable(report(many)).split("\n");
      expect(lines).toHaveLength(2 + 10);
      expect(lines.find((l) => l.startsWith(`| ${ids(1_000_000).cookie} |`))).toBe(
        `| ${ids(1_000_000).cookie} | 1,000,000 | 7,500 | 1.23 | 7.00 | 312 | 80 | 0.93 | 0.25 | 0.75× raw pg (10^6) | 7.50× | 3.75× |`,
      );
      // …and stay out of the single-session table.
      const single = formatHotPathTable(report(many));
      expect(single).not.toContain("@");
      expect(single).toContain("| verify-bearer |");
    });
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

describe("bench session picks", () => {
  // A fixed sequence instead of Math.random, so the counts are exact.
  const seeded = (seed: number) => () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };

  test("the fill for exactly N live sessions, every tenth one being expired", () => {
    expect(filledForLive(10_000)).toBe(11_111);
    expect(filledForLive(1_000_000)).toBe(1_111_111);
    const live = Array.from({ length: 10_000 }, (_, i) => liveSessionNumber(i));
    expect(new Set(live).size).toBe(10_000);
    expect(live.some((n) => n % 10 === 0)).toBe(false);
    expect(Math.max(...live)).toBe(11_111);
  });

  test("uniform picks are live sessions within the fill", () => {
    const pick = uniformPicker(1_000, seeded(1));
    const picks = Array.from({ length: 5_000 }, pick);
    expect(picks.filter((n) => n % 10 === 0 || n < 1 || n > filledForLive(1_000))).toEqual([]);
    expect(new Set(picks).size).toBeGreaterThan(950);
  });

  test("Zipf picks favour a few popular sessions and leave a long tail", () => {
    const live = 10_000;
    const pick = zipfPicker(live, 1, seeded(7));
    const counts = new Map<number, number>();
    const picks = 50_000;
    const outside: number[] = [];
    for (let i = 0; i < picks; i++) {
      const n = pick();
      if (n % 10 === 0 || n > filledForLive(live)) outside.push(n);
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    expect(outside).toEqual([]);
    const sorted = [...counts.values()].sort((a, b) => b - a);
    // s=1 over 10^4: the most popular gets 1/H(10^4) ≈ 10.2 % of picks, the
    // top 100 about 53 %, and thousands of sessions are picked at least once.
    expect((sorted[0] ?? 0) / picks).toBeGreaterThan(0.08);
    expect((sorted[0] ?? 0) / picks).toBeLessThan(0.12);
    const top100 = sorted.slice(0, 100).reduce((a, b) => a + b, 0) / picks;
    expect(top100).toBeGreaterThan(0.48);
    expect(top100).toBeLessThan(0.58);
    expect(counts.size).toBeGreaterThan(3_000);
  });

  test("counts print as powers of ten where they are one", () => {
    expect(formatCount(1_000_000)).toBe("10^6");
    expect(formatCount(11_111)).toBe("11,111");
  });
});
