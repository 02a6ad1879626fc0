import { Hono } from "hono";
import { getCookie } from "hono/cookie";
import pg from "pg";
import { sql } from "slonik";
import { z } from "zod";
import { createDatabasePool } from "../src/db/pool.ts";
import { createLogger } from "../src/logger.ts";
import { startSessionTouches } from "../src/sessions/session-touches.ts";
import { sessionLookup, validateSession } from "../src/sessions/sessions.ts";

// The ceilings: the least a Hono app on Bun can do for one request, without
// a database (`json`) and with one primary-key lookup through the raw `pg`
// driver (`pg`; `pg-prepared` as a named prepared statement) or through slonik configured exactly as Gatehouse's pool
// (`slonik`: same interceptors, type parsers and zod row parser). Gatehouse's
// session check can approach the `pg` figure but not pass it without a cache.
// `session` is a diagnostic, not a ceiling: Gatehouse's own session check
// (validateSession: the session⋈user read) behind a bare Hono route, so the
// difference to Gatehouse's forward-auth is what its middleware stack costs.
// The many-users rows use `/sessions/:id` (one primary-key lookup in the
// sessions table, a random one of many per request) in `pg` and `slonik`.
// `bun bench/ceiling-server.ts json|pg|pg-prepared|slonik|session`, PORT and DATABASE_URL from the environment.

const mode = process.argv[2];
const port = Number(process.env.PORT);
const poolSize = 10; // Gatehouse's DB_POOL_MAX default

/** A slonik pool configured as Gatehouse configures its own. */
const slonikPool = () =>
  createDatabasePool({
    url: process.env.DATABASE_URL ?? "",
    minPoolSize: 2,
    maxPoolSize: poolSize,
    connectionTimeoutMs: 5000,
    statementTimeoutMs: 30_000,
    slowQueryMs: 200,
    logger: createLogger("warn"),
  });
const app = new Hono();
app.get("/healthz", (c) => c.json({ status: "ok" }));

if (mode === "json") {
  app.get("/json", (c) => c.json({ status: "ok", user: "b3f1", role: "user" }));
} else if (mode === "pg" || mode === "pg-prepared") {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: poolSize });
  // pg-prepared: the same lookups as named prepared statements, as
  // Gatehouse runs its per-request checks.
  const name = (statement: string) => (mode === "pg-prepared" ? statement : undefined);
  app.get("/users/:id", async (c) => {
    const { rows } = await pool.query({
      name: name("ceiling_user"),
      text: "SELECT id, email, role, status, is_whitelisted FROM users WHERE id = $1",
      values: [c.req.param("id")],
    });
    return rows[0] ? c.json(rows[0]) : c.json({ error: "not found" }, 404);
  });
  app.get("/sessions/:id", async (c) => {
    const { rows } = await pool.query({
      name: name("ceiling_session"),
      text: "SELECT id, user_id, expires_at, revoked_at FROM sessions WHERE id = $1",
      values: [c.req.param("id")],
    });
    return rows[0] ? c.json(rows[0]) : c.json({ error: "not found" }, 404);
  });
} else if (mode === "slonik") {
  const pool = await slonikPool();
  const userRow = z.object({
    id: z.uuid(),
    email: z.string().nullable(),
    role: z.string(),
    status: z.string(),
    is_whitelisted: z.boolean(),
  });
  app.get("/users/:id", async (c) => {
    const row = await pool.maybeOne(sql.type(userRow)`
      SELECT id, email, role, status, is_whitelisted FROM users WHERE id = ${c.req.param("id")}`);
    return row ? c.json(row) : c.json({ error: "not found" }, 404);
  });
  const sessionRow = z.object({
    id: z.uuid(),
    user_id: z.uuid(),
    expires_at: z.date(),
    revoked_at: z.date().nullable(),
  });
  app.get("/sessions/:id", async (c) => {
    const row = await pool.maybeOne(sql.type(sessionRow)`
      SELECT id, user_id, expires_at, revoked_at FROM sessions WHERE id = ${c.req.param("id")}`);
    return row ? c.json(row) : c.json({ error: "not found" }, 404);
  });
} else if (mode === "session") {
  const pool = await slonikPool();
  const touches = startSessionTouches(pool, createLogger("warn"));
  const lookup = sessionLookup(pool);
  app.get("/auth/verify", async (c) => {
    const found = await validateSession(
      lookup,
      getCookie(c, process.env.SESSION_COOKIE ?? "gatehouse_session") ?? "",
      touches,
    );
    if (!found) return c.body(null, 401);
    return c.body(null, 200, { "x-auth-user-id": found.user_id, "x-auth-role": found.role });
  });
} else {
  console.error("usage: bun bench/ceiling-server.ts json|pg|pg-prepared|slonik|session");
  process.exit(2);
}

const server = Bun.serve({ hostname: "127.0.0.1", port, fetch: app.fetch });
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
