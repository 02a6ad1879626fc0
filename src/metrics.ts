import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { HttpRequestMetrics, scraped } from "./http-request-metrics.ts";
import { gatehouseVersion } from "./version.ts";

// The process's Prometheus metrics. Features import the counter they need
// and increment it; GET /metrics renders the registry. Label values are
// small fixed sets (never user input), so series stay bounded.

export const metricsRegistry = new Registry();

// The process's own: CPU, memory, heap, open files, event-loop lag, under
// the names every Node.js dashboard reads (process_*, nodejs_*).
collectDefaultMetrics({ register: metricsRegistry });

new Gauge({
  name: "gatehouse_build_info",
  help: "Always 1; its labels name the running release and runtime.",
  labelNames: ["version", "bun"] as const,
  registers: [metricsRegistry],
}).set({ version: gatehouseVersion, bun: Bun.version }, 1);

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

/** method: password | provider. */
export const signUps = new Counter({
  name: "gatehouse_signups_total",
  help: "Accounts created by signing up, by method.",
  labelNames: ["method"] as const,
  registers: [metricsRegistry],
});

export const accountLockouts = new Counter({
  name: "gatehouse_account_lockouts_total",
  help: "Accounts locked after too many wrong passwords or second factors in a row.",
  registers: [metricsRegistry],
});

/** result: sent | failed | kept (no SMTP_URL: the development outbox or the log). */
export const mails = new Counter({
  name: "gatehouse_mails_total",
  help: "Mails handed to the mail server, by result.",
  labelNames: ["result"] as const,
  registers: [metricsRegistry],
});

/**
 * outcome: delivered (a 2xx), retried (an attempt failed, the next is
 * queued), failed (the last attempt of the retry window failed: given up).
 * One count per attempt this process sent and recorded.
 */
export const webhookDeliveries = new Counter({
  name: "gatehouse_webhook_deliveries_total",
  help: "Webhook delivery attempts sent by this process, by outcome (delivered, retried, failed).",
  labelNames: ["outcome"] as const,
  registers: [metricsRegistry],
});
// Every outcome from the first scrape: a rate over a series that appears late reads as nothing.
for (const outcome of ["delivered", "retried", "failed"]) webhookDeliveries.inc({ outcome }, 0);

/**
 * Forward-auth answers (allowed, or X-Auth-Reason) and credential-cache
 * lookups: plain numbers on the request path, read at scrape (as the HTTP
 * request metrics are).
 */
const forwardAuthDecisions = new Map<string, number>();
export function countForwardAuthDecision(decision: string): void {
  forwardAuthDecisions.set(decision, (forwardAuthDecisions.get(decision) ?? 0) + 1);
}
export const credentialCacheLookups = { hit: 0, miss: 0 };
/** 1 while the cache's listener hears its heartbeats (the cache serves), else 0. */
export const credentialCacheListening = new Gauge({
  name: "gatehouse_credential_cache_listening",
  help: "1 while the credential cache's LISTEN connection hears its own heartbeats (the cache serves), 0 while it is bypassed.",
  registers: [metricsRegistry],
});

metricsRegistry.registerMetric(
  scraped(
    "gatehouse_forward_auth_decisions_total",
    "counter",
    "GET /auth/verify answers: allowed, or the X-Auth-Reason of a refusal.",
    () => [...forwardAuthDecisions].map(([decision, value]) => ({ labels: { decision }, value })),
  ),
);
metricsRegistry.registerMetric(
  scraped(
    "gatehouse_credential_cache_lookups_total",
    "counter",
    "Credential-cache lookups of session and bearer checks, by result (hit, miss).",
    () =>
      Object.entries(credentialCacheLookups).map(([result, value]) => ({
        labels: { result },
        value,
      })),
  ),
);
