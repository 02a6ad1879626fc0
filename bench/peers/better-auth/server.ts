import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { Hono } from "hono";
import pg from "pg";

// better-auth as its documentation sets it up (Kysely over a pg Pool, email
// and password), served by Hono on Bun like Gatehouse, on the bench's
// PostgreSQL. COOKIE_CACHE=on turns on its signed session-data cookie.
// Rate limiting is off: the bench measures get-session, not the limiter.
// Not a dependency of Gatehouse: this folder has its own package.json.

const port = Number(process.env.PORT);
const baseURL = `http://127.0.0.1:${port}`;
const options = {
  database: new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 }),
  secret: process.env.BETTER_AUTH_SECRET,
  baseURL,
  emailAndPassword: { enabled: true },
  session: { cookieCache: { enabled: process.env.COOKIE_CACHE === "on", maxAge: 300 } },
  rateLimit: { enabled: false },
  logger: { disabled: true },
};

const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);

const app = new Hono();
app.get("/healthz", (c) => c.json({ status: "ok" }));
app.on(["GET", "POST"], "/api/auth/*", (c) => auth.handler(c.req.raw));

const server = Bun.serve({ hostname: "127.0.0.1", port, fetch: app.fetch });
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
