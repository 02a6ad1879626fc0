import { readHealth } from "../ops/health.ts";
import { type CliCommand, CliError, output, withDatabase } from "./command.ts";

const help = `usage: gatehouse health [--detailed] [--json]

Database connectivity and round-trip latency, server version, pool figures,
database and table sizes with row estimates, cache hit ratio, deadlocks,
long-running queries, and the slowest statements when pg_stat_statements is
installed. --detailed adds users by status, unverified, locked, whitelisted
vs pending, active sessions, live refresh-token families, and failed logins
and lockouts in the last 24 hours. Exits 1 with one line when the database
is unreachable.`;

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

export const healthCommand: CliCommand = {
  summary: "database and auth health (--detailed for user and session figures)",
  help,
  options: { detailed: { type: "boolean" } },
  run: async ({ values, positionals, json }) => {
    if (positionals.length > 0) throw new CliError("health takes no arguments");
    const report = await withDatabase(({ db }) =>
      readHealth(db.pool, { detailed: values.detailed === true }),
    );
    output(json, report, () => {
      const d = report.database;
      const lines = [
        `database ${d.name}: reachable, ${d.latency_ms} ms round trip, PostgreSQL ${d.server_version}`,
        `  size ${mib(d.size_bytes)}, connections ${d.connections}/${d.max_connections}, cache hit ratio ${d.cache_hit_ratio ?? "n/a"}, deadlocks ${d.deadlocks}`,
        `pool: ${report.pool.acquired} in use, ${report.pool.idle} idle, ${report.pool.waiting} waiting`,
        "tables:",
        ...report.tables.map(
          (t) =>
            `  ${t.table.padEnd(28)} ${mib(t.total_bytes).padStart(10)}  ~${t.row_estimate} rows`,
        ),
        `long-running queries (> ${report.long_running_queries.threshold_seconds}s): ${report.long_running_queries.queries.length}`,
        ...report.long_running_queries.queries.map(
          (q) => `  pid ${q.pid} ${Math.round(q.seconds)}s ${q.query}`,
        ),
        report.slow_statements.available
          ? `slowest statements:\n${report.slow_statements.statements.map((s) => `  ${s.mean_ms} ms avg × ${s.calls}  ${s.query}`).join("\n")}`
          : `slow statements: ${"note" in report.slow_statements ? report.slow_statements.note : "n/a"}`,
      ];
      if (report.auth) {
        const u = report.auth.users;
        lines.push(
          `users: ${u.total} (active ${u.active}, inactive ${u.inactive}, locked ${u.locked}, denied ${u.denied}, deleted ${u.deleted}); unverified ${u.unverified}, locked out now ${u.locked_out_now}, whitelisted ${u.whitelisted}, pending approval ${u.pending_approval}, admins ${u.admins}`,
          `active sessions ${report.auth.active_sessions}, live refresh-token families ${report.auth.live_refresh_token_families}`,
          `last 24 h: ${report.auth.last_24h.failed_logins} failed logins, ${report.auth.last_24h.lockouts} lockouts`,
        );
      }
      return lines.join("\n");
    });
    return 0;
  },
};
