import { Counter, Gauge, Registry } from "prom-client";
import { HttpRequestMetrics } from "./http-request-metrics.ts";

// The process's Prometheus metrics. Features import the counter they need
// and increment it; GET /metrics renders the registry. Label values are
// small fixed sets (never user input), so series stay bounded.

export const metricsRegistry = new Registry();

/** Counted without prom-client on the request path (src/http-request-metrics.ts). */
export const httpRequestMetrics = new HttpRequestMetrics();
httpRequestMetrics.registerIn(metricsRegistry);

export const databasePoolConnections = new Gauge({
  name: "gatehouse_db_pool_connections",
  help: "Database pool connections by state (acquired, idle, waiting clients).",
  labelNames: ["state"] as const,
  registers: [metricsRegistry],
});

/** method: password | token | email_code | github | google | ...; result: success | failure | locked | mfa_required. */
export const logins = new Counter({
  name: "gatehouse_logins_total",
  help: "Sign-in attempts by method and result.",
  labelNames: ["method", "result"] as const,
  registers: [metricsRegistry],
});

export const emailCodesSent = new Counter({
  name: "gatehouse_email_codes_sent_total",
  help: "Email sign-in codes made and handed to the mailer.",
  registers: [metricsRegistry],
});

export const sessionsCreated = new Counter({
  name: "gatehouse_sessions_created_total",
  help: "Browser sessions created.",
  registers: [metricsRegistry],
});

export const sessionsRevoked = new Counter({
  name: "gatehouse_sessions_revoked_total",
  help: "Sessions revoked, by reason.",
  labelNames: ["reason"] as const,
  registers: [metricsRegistry],
});

export const tokensIssued = new Counter({
  name: "gatehouse_tokens_issued_total",
  help: "Access/refresh token pairs issued, by grant.",
  labelNames: ["grant"] as const,
  registers: [metricsRegistry],
});

export const tokensRefreshed = new Counter({
  name: "gatehouse_tokens_refreshed_total",
  help: "Refresh tokens redeemed for a new pair.",
  registers: [metricsRegistry],
});

export const refreshTokenReuse = new Counter({
  name: "gatehouse_refresh_token_reuse_detected_total",
  help: "Refresh tokens presented again after use (their family is revoked).",
  registers: [metricsRegistry],
});

export const rateLimited = new Counter({
  name: "gatehouse_rate_limited_total",
  help: "Requests refused by a rate limit, by limit name.",
  labelNames: ["limit"] as const,
  registers: [metricsRegistry],
});

export const cleanupRuns = new Counter({
  name: "gatehouse_cleanup_runs_total",
  help: "Cleanup job runs, by outcome (done, skipped: another replica held the lock, failed).",
  labelNames: ["outcome"] as const,
  registers: [metricsRegistry],
});

export const cleanupRowsRemoved = new Counter({
  name: "gatehouse_cleanup_rows_removed_total",
  help: "Rows (and audit partitions, backups) removed by cleanup, by what.",
  labelNames: ["what"] as const,
  registers: [metricsRegistry],
});

/** method: totp | recovery_code; result: success | failure. */
export const mfaChallenges = new Counter({
  name: "gatehouse_mfa_challenges_total",
  help: "Second factors given (at sign-in and to change a factor), by method and result.",
  labelNames: ["method", "result"] as const,
  registers: [metricsRegistry],
});
