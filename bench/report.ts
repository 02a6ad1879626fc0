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
  atLeast: number;
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

const targetDefinitions = [
  {
    scenario: "verify-cookie",
    against: "ceiling-pg",
    atLeast: 0.7,
    target: "forward-auth (cookie) ≥ 0.7× Hono + one raw pg lookup",
  },
  {
    scenario: "verify-cookie",
    against: "ceiling-pg",
    atLeast: 1,
    target: "stretch: forward-auth (cookie) ≥ 1× Hono + one raw pg lookup",
  },
  {
    scenario: "verify-cookie",
    against: peerIds.noCache,
    atLeast: 5,
    target: "forward-auth (cookie) ≥ 5× better-auth get-session, no cookie cache",
  },
  {
    scenario: "verify-cookie",
    against: peerIds.cookieCache,
    atLeast: 2,
    target: "forward-auth (cookie) ≥ 2× better-auth get-session, cookie cache on",
  },
  {
    scenario: "verify-bearer",
    against: "ceiling-json",
    atLeast: 0.8,
    target: "forward-auth (bearer) ≥ 0.8× bare Hono JSON",
  },
] as const;

function rate(results: readonly ScenarioResult[], id: string): number | null {
  const row = results.find((r) => r.id === id);
  return row?.outcome === "measured" && row.measurement ? row.measurement.requestsPerSecond : null;
}

/** requests/s of `id` divided by requests/s of `other`; null when either was not measured. */
export function ratio(
  results: readonly ScenarioResult[],
  id: string,
  other: string,
): number | null {
  const a = rate(results, id);
  const b = rate(results, other);
  return a === null || b === null || b === 0 ? null : a / b;
}

export function checkTargets(results: readonly ScenarioResult[]): TargetCheck[] {
  return targetDefinitions.map(({ scenario, against, atLeast, target }) => {
    const r = ratio(results, scenario, against);
    return { target, ratio: r, atLeast, met: r === null ? null : r >= atLeast };
  });
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

export function formatHotPathTable(report: HotPathReport): string {
  const { results } = report;
  const label = (id: string) => comparedNames[id] ?? id;
  const lines = [
    "| scenario | req/s | p50 ms | p99 ms | server CPU µs/req | server RSS MB | vs its ceiling | vs better-auth (no cache) | vs better-auth (cookie cache) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
  ];
  for (const row of results) {
    const m = row.measurement;
    if (row.outcome !== "measured" || !m) {
      lines.push(`| ${row.label} | ${row.outcome}: ${row.note ?? ""} | | | | | | | |`);
      continue;
    }
    const vsCeiling = row.ceiling
      ? `${times(ratio(results, row.id, row.ceiling))} ${label(row.ceiling)}`
      : "";
    const vsPeer = (peer: string) => (row.comparePeer ? times(ratio(results, row.id, peer)) : "");
    const failures = m.failures > 0 ? ` (${m.failures} failed)` : "";
    lines.push(
      `| ${row.label}${row.note ? ` (${row.note})` : ""} | ${formatRate(m.requestsPerSecond)}${failures} | ${fixed(m.p50Ms, 2)} | ${fixed(m.p99Ms, 2)} | ${m.cpuUsPerRequest === null ? "–" : fixed(m.cpuUsPerRequest, 0)} | ${m.rssMb === null ? "–" : fixed(m.rssMb, 0)} | ${vsCeiling} | ${vsPeer(peerIds.noCache)} | ${vsPeer(peerIds.cookieCache)} |`,
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
