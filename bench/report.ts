// Result shapes, the ratios between them, and their markdown form. Pure
// functions: tests/bench-report.test.ts checks them without running a load.

export type Measurement = {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Peak resident memory of the server process during the load (MB); null when unreadable. */
  rssMb: number | null;
  /** CPU time the server process spent per request (µs); null when unreadable. */
  cpuUsPerRequest: number | null;
  requests: number;
  /** Connection errors, timeouts and responses other than the expected status. */
  failures: number;
  /**
   * Index scans of the sessions table per request over the whole load
   * (warm-up included), from PostgreSQL's statistics (pg_stat_user_tables):
   * for Gatehouse, the share of requests that missed the credential cache.
   * Absent where not counted.
   */
  sessionReadsPerRequest?: number | null;
  /**
   * Statements of the whole database per request (its transactions, from
   * pg_stat_database): below the session reads when checks of several
   * requests shared one statement. Absent where not counted.
   */
  statementsPerRequest?: number | null;
};

export type ScenarioResult = {
  id: string;
  label: string;
  kind: "ceiling" | "peer" | "gatehouse" | "raw";
  outcome: "measured" | "skipped" | "failed";
  note?: string;
  measurement?: Measurement;
  /** Id of the row this one is compared with as its ceiling. */
  ceiling?: string;
  /** Whether the better-auth get-session rows are this row's peer. */
  comparePeer?: boolean;
  /** The peer rows to compare with instead of the single-session ones. */
  peerRows?: { noCache: string; cookieCache: string };
  /** Many-users rows: how many live sessions each request picks one from. */
  sessions?: number;
};

export type Machine = {
  cores: number;
  cpu: string;
  memoryGb: number;
  os: string;
  bun: string;
  postgres: string;
  database: "embedded" | "BENCH_DATABASE_URL";
};

export type Settings = { durationSeconds: number; warmupSeconds: number; connections: number };

export type TargetCheck = {
  target: string;
  ratio: number | null;
  /** The bound the ratio must meet: at least (req/s ratios) or at most (p99 growth). */
  atLeast?: number;
  atMost?: number;
  met: boolean | null;
};

export type HotPathReport = {
  kind: "hot-paths";
  date: string;
  quick: boolean;
  machine: Machine;
  settings: Settings;
  results: ScenarioResult[];
  targets: TargetCheck[];
};

export const peerIds = { noCache: "better-auth-no-cache", cookieCache: "better-auth-cookie-cache" };

/** Ids of the many-users rows measured over `sessions` live sessions. */
export function manyIds(sessions: number) {
  return {
    ceilingPg: `ceiling-pg@${sessions}`,
    ceilingPgPrepared: `ceiling-pg-prepared@${sessions}`,
    ceilingSlonik: `ceiling-slonik@${sessions}`,
    cookie: `verify-cookie-random@${sessions}`,
    bearer: `verify-bearer-random@${sessions}`,
    zipf: `verify-cookie-zipf@${sessions}`,
    /** The Zipf row again with a longer AUTH_CACHE_TTL (`10s`, `60s`). */
    zipfWithTtl: (ttl: string) => `verify-cookie-zipf-${ttl}@${sessions}`,
    peerNoCache: `better-auth-no-cache@${sessions}`,
    peerCookieCache: `better-auth-cookie-cache@${sessions}`,
  };
}

/** 10^6 for 1,000,000; other counts with thousands separators. */
export function formatCount(n: number): string {
  const power = Math.log10(n);
  return Number.isInteger(power) && power >= 3 ? `10^${power}` : formatRate(n);
}

type TargetDefinition = {
  target: string;
  scenario: string;
  against: string;
  /** What is divided: requests per second (default) or p99 latency. */
  measure?: "rate" | "p99";
  atLeast?: number;
  atMost?: number;
};

/**
 * The targets. The many-users ones (a random session per request among the
 * most live sessions measured, so the credential cache mostly misses) come
 * first; the single-session ones are the best case, kept for comparison.
 */
function targetDefinitions(results: readonly ScenarioResult[]): TargetDefinition[] {
  const sizes = [...new Set(results.flatMap((r) => (r.sessions ? [r.sessions] : [])))].sort(
    (a, b) => a - b,
  );
  const large = sizes[sizes.length - 1] ?? 1e6;
  const small = sizes[0] ?? 1e4;
  const big = manyIds(large);
  const little = manyIds(small);
  const among = `random among ${formatCount(large)} sessions`;
  return [
    {
      scenario: big.cookie,
      against: big.ceilingPg,
      atLeast: 0.7,
      target: `forward-auth (cookie, ${among}) ≥ 0.7× raw pg PK lookup (same table size)`,
    },
    {
      scenario: big.cookie,
      against: big.peerNoCache,
      atLeast: 5,
      target: `forward-auth (cookie, ${among}) ≥ 5× better-auth get-session, no cookie cache (${among})`,
    },
    {
      scenario: "verify-bearer",
      against: "ceiling-json",
      atLeast: 0.8,
      target: "forward-auth (bearer, one token: cached) ≥ 0.8× bare Hono JSON",
    },
    {
      scenario: big.bearer,
      against: big.ceilingPg,
      atLeast: 0.7,
      target: `forward-auth (bearer, ${among}: uncached) ≥ 0.7× raw pg PK lookup (same table size)`,
    },
    {
      scenario: big.cookie,
      against: little.cookie,
      measure: "p99",
      atMost: 1.5,
      target: `forward-auth (cookie) p99 at ${formatCount(large)} sessions ≤ 1.5× p99 at ${formatCount(small)}`,
    },
    {
      scenario: big.bearer,
      against: little.bearer,
      measure: "p99",
      atMost: 1.5,
      target: `forward-auth (bearer) p99 at ${formatCount(large)} sessions ≤ 1.5× p99 at ${formatCount(small)}`,
    },
    {
      scenario: "verify-cookie",
      against: "ceiling-pg",
      atLeast: 0.7,
      target: "best case: forward-auth (cookie, one session) ≥ 0.7× Hono + one raw pg lookup",
    },
    {
      scenario: "verify-cookie",
      against: "ceiling-pg",
      atLeast: 1,
      target:
        "best case, stretch: forward-auth (cookie, one session) ≥ 1× Hono + one raw pg lookup",
    },
    {
      scenario: "verify-cookie",
      against: peerIds.noCache,
      atLeast: 5,
      target:
        "best case: forward-auth (cookie, one session) ≥ 5× better-auth get-session, no cookie cache",
    },
    {
      scenario: "verify-cookie",
      against: peerIds.cookieCache,
      atLeast: 2,
      target:
        "best case: forward-auth (cookie, one session) ≥ 2× better-auth get-session, cookie cache on",
    },
  ];
}

function measured(results: readonly ScenarioResult[], id: string): Measurement | null {
  const row = results.find((r) => r.id === id);
  return row?.outcome === "measured" && row.measurement ? row.measurement : null;
}

/** `figure` (requests/s unless named) of `id` divided by that of `other`; null when either was not measured. */
export function ratio(
  results: readonly ScenarioResult[],
  id: string,
  other: string,
  figure: "requestsPerSecond" | "p99Ms" = "requestsPerSecond",
): number | null {
  const a = measured(results, id)?.[figure] ?? null;
  const b = measured(results, other)?.[figure] ?? null;
  return a === null || b === null || b === 0 ? null : a / b;
}

export function checkTargets(results: readonly ScenarioResult[]): TargetCheck[] {
  return targetDefinitions(results).map(
    ({ scenario, against, measure, atLeast, atMost, target }) => {
      const r = ratio(
        results,
        scenario,
        against,
        measure === "p99" ? "p99Ms" : "requestsPerSecond",
      );
      const met =
        r === null
          ? null
          : (atLeast === undefined || r >= atLeast) && (atMost === undefined || r <= atMost);
      return {
        target,
        ratio: r,
        ...(atLeast === undefined ? {} : { atLeast }),
        ...(atMost === undefined ? {} : { atMost }),
        met,
      };
    },
  );
}

const fixed = (n: number, digits: number) => n.toFixed(digits);
const times = (r: number | null) => (r === null ? "–" : `${fixed(r, 2)}×`);

export function formatRate(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** Short names of the rows other rows are compared with, for the ratio cells. */
const comparedNames: Record<string, string> = {
  "ceiling-json": "Hono JSON",
  "ceiling-pg": "raw pg",
  "ceiling-slonik": "slonik",
  "password-verify": "raw verify",
  "bare-session-check": "bare session check",
};

const comparedName = (id: string) => {
  const [base, sessions] = id.split("@");
  const name = comparedNames[base ?? ""] ?? base ?? id;
  return sessions ? `${name} (${formatCount(Number(sessions))})` : name;
};

function rowCells(results: readonly ScenarioResult[], row: ScenarioResult, m: Measurement) {
  const vsCeiling = row.ceiling
    ? `${times(ratio(results, row.id, row.ceiling))} ${comparedName(row.ceiling)}`
    : "";
  const peers = row.peerRows ?? (row.comparePeer ? peerIds : null);
  const failures = m.failures > 0 ? ` (${m.failures} failed)` : "";
  return {
    label: `${row.label}${row.note ? ` (${row.note})` : ""}`,
    figures: `${formatRate(m.requestsPerSecond)}${failures} | ${fixed(m.p50Ms, 2)} | ${fixed(m.p99Ms, 2)} | ${m.cpuUsPerRequest === null ? "–" : fixed(m.cpuUsPerRequest, 0)} | ${m.rssMb === null ? "–" : fixed(m.rssMb, 0)}`,
    ratios: `${vsCeiling} | ${peers ? times(ratio(results, row.id, peers.noCache)) : ""} | ${peers ? times(ratio(results, row.id, peers.cookieCache)) : ""}`,
  };
}

/** The single-session rows (and the ceilings, peer and other hot paths). */
export function formatHotPathTable(report: HotPathReport): string {
  const { results } = report;
  const lines = [
    "| scenario | req/s | p50 ms | p99 ms | server CPU µs/req | server RSS MB | vs its ceiling | vs better-auth (no cache) | vs better-auth (cookie cache) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
  ];
  for (const row of results) {
    if (row.sessions !== undefined) continue;
    const m = row.measurement;
    if (row.outcome !== "measured" || !m) {
      lines.push(`| ${row.label} | ${row.outcome}: ${row.note ?? ""} | | | | | | | |`);
      continue;
    }
    const cells = rowCells(results, row, m);
    lines.push(`| ${cells.label} | ${cells.figures} | ${cells.ratios} |`);
  }
  return lines.join("\n");
}

/** The many-users rows: each request picks one of `sessions` live sessions. */
export function formatManySessionsTable(report: HotPathReport): string {
  const { results } = report;
  const lines = [
    "| scenario | live sessions | req/s | p50 ms | p99 ms | server CPU µs/req | server RSS MB | session reads/req | statements/req | vs its ceiling | vs better-auth (no cache) | vs better-auth (cookie cache) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
  ];
  for (const row of results) {
    if (row.sessions === undefined) continue;
    const m = row.measurement;
    const count = formatRate(row.sessions);
    if (row.outcome !== "measured" || !m) {
      lines.push(
        `| ${row.label} | ${count} | ${row.outcome}: ${row.note ?? ""} | | | | | | | | | |`,
      );
      continue;
    }
    const cells = rowCells(results, row, m);
    const perRequest = (n: number | null | undefined) => (n == null ? "–" : fixed(n, 2));
    const reads = perRequest(m.sessionReadsPerRequest);
    const statements = perRequest(m.statementsPerRequest);
    lines.push(
      `| ${cells.label} | ${count} | ${cells.figures} | ${reads} | ${statements} | ${cells.ratios} |`,
    );
  }
  return lines.join("\n");
}

export function formatTargets(targets: readonly TargetCheck[]): string {
  return targets
    .map((t) => {
      const verdict = t.met === null ? "not measured" : t.met ? "met" : "missed";
      return `- ${t.target}: ${times(t.ratio)} → ${verdict}`;
    })
    .join("\n");
}

export function formatMachine(machine: Machine, settings: Settings): string {
  return [
    `${machine.cores} cores (${machine.cpu}), ${fixed(machine.memoryGb, 1)} GB memory, ${machine.os}`,
    `Bun ${machine.bun}, PostgreSQL ${machine.postgres} (${machine.database})`,
    `load: autocannon in the bench process, ${settings.connections} connections over loopback, ${settings.warmupSeconds} s warm-up then ${settings.durationSeconds} s per scenario`,
  ].join("; ");
}

export function formatHotPathReport(report: HotPathReport): string {
  return [
    `## Hot paths, ${report.date}${report.quick ? " (--quick: smoke run, figures meaningless)" : ""}`,
    "",
    formatMachine(report.machine, report.settings),
    "",
    formatHotPathTable(report),
    "",
    "Many users: each request picks a random live session (or its bearer token), so the credential cache mostly misses; the Zipf row is a realistic mix at the default AUTH_CACHE_TTL.",
    "",
    formatManySessionsTable(report),
    "",
    "Targets (ratios within this run):",
    "",
    formatTargets(report.targets),
    "",
  ].join("\n");
}

// Scale ------------------------------------------------------------------------

export type ScaleStep = {
  sessions: number;
  auditEvents: number;
  fillSeconds: number;
  route: string;
  load: Measurement | null;
  cleanup: { removed: number; seconds: number; batches: number; longestBatchMs: number };
  retention: { rowsPerMonth: number; dropPartitionMs: number; deleteRowsMs: number };
};

export type ScaleReport = {
  kind: "scale";
  date: string;
  quick: boolean;
  machine: Machine;
  settings: Settings;
  steps: ScaleStep[];
  /** p99 at the largest step against p99 at the smallest (target ≤ 1.5). */
  p99Growth: number | null;
};

export function p99Growth(steps: readonly ScaleStep[]): number | null {
  const first = steps[0]?.load;
  const last = steps[steps.length - 1]?.load;
  if (!first || !last || steps.length < 2 || first.p99Ms === 0) return null;
  return last.p99Ms / first.p99Ms;
}

export function formatScaleTable(steps: readonly ScaleStep[]): string {
  const lines = [
    "| sessions | audit events | fill s | route | req/s | p50 ms | p99 ms | server CPU µs/req | expired-session cleanup | longest batch ms | audit month: DROP partition ms | DELETE same rows ms |",
    "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
  ];
  for (const s of steps) {
    const load = s.load;
    lines.push(
      `| ${formatRate(s.sessions)} | ${formatRate(s.auditEvents)} | ${fixed(s.fillSeconds, 1)} | ${s.route} | ${load ? formatRate(load.requestsPerSecond) : "–"} | ${load ? fixed(load.p50Ms, 2) : "–"} | ${load ? fixed(load.p99Ms, 2) : "–"} | ${load?.cpuUsPerRequest != null ? fixed(load.cpuUsPerRequest, 0) : "–"} | ${formatRate(s.cleanup.removed)} rows in ${fixed(s.cleanup.seconds, 2)} s (${s.cleanup.batches} batches) | ${fixed(s.cleanup.longestBatchMs, 0)} | ${fixed(s.retention.dropPartitionMs, 1)} | ${fixed(s.retention.deleteRowsMs, 1)} (${formatRate(s.retention.rowsPerMonth)} rows) |`,
    );
  }
  return lines.join("\n");
}

export function formatScaleReport(report: ScaleReport): string {
  const growth = report.p99Growth;
  return [
    `## Scale, ${report.date}${report.quick ? " (--quick: smoke run, figures meaningless)" : ""}`,
    "",
    formatMachine(report.machine, report.settings),
    "",
    formatScaleTable(report.steps),
    "",
    `p99 at the largest size / p99 at the smallest: ${times(growth)} (target ≤ 1.50×) → ${growth === null ? "not measured" : growth <= 1.5 ? "met" : "missed"}`,
    "",
  ].join("\n");
}
