import pg from "pg";
import { parseConfig } from "../src/config/index.ts";
import { sessionCookieName } from "../src/http/session-cookie.ts";
import { createAccessTokens } from "../src/tokens/access-tokens.ts";
import { type Load, type ManySessionsContext, measureCounted, randomItem } from "./counted-load.ts";
import { createGatehouseDatabase } from "./database.ts";
import { gatehouseEnvironment, startGatehouse } from "./gatehouse.ts";
import type { LoadRequest } from "./load.ts";
import { peerRows } from "./many-sessions-peer.ts";
import type { BenchOptions } from "./options.ts";
import { createPeerDatabase, ensurePeerInstalled } from "./peer.ts";
import { startServer } from "./processes.ts";
import { formatCount, manyIds, type ScenarioResult } from "./report.ts";
import { filledSessionSecret, fillUsers, sqlFile } from "./scale.ts";
import { forwardedHeaders } from "./scenarios.ts";
import { filledForLive, uniformPicker, zipfPicker } from "./session-picks.ts";

// Forward-auth for many users: each request carries a random one of many
// live sessions (or bearer tokens), so with AUTH_CACHE_TTL at its default
// the credential cache mostly misses, next to the raw pg and slonik
// primary-key ceilings on the same sessions table and better-auth over as
// many of its own sessions. Tables are filled by bench/sql/*.sql (the same
// fill as `bench scale`), growing from one size to the next. Every row runs
// on a server process of its own, so its database reads can be counted.

/** Live sessions the many-users rows spread their requests over. */
export function manySessionSizes(options: BenchOptions): number[] {
  return options.quick ? [1_000, 10_000] : [10_000, 1_000_000];
}

/**
 * Distinct sessions that get a signed bearer token. Signing one costs about
 * as much as verifying one, so a token for each of 10^6 sessions would take
 * minutes and hundreds of MB in the bench process; 10^5 tokens over distinct
 * random sessions are ten times the server's verified-signature cache
 * (src/tokens/access-tokens.ts), so most requests still pay the signature
 * check and the database read, and 10^5 random rows touch nearly every heap
 * page of a 10^6-row table.
 */
export const bearerPoolSize = (live: number) => Math.min(live, 100_000);

async function gatehouseRows(
  context: ManySessionsContext,
  databaseUrl: string,
  client: pg.Client,
  live: number,
  largest: boolean,
) {
  const ids = manyIds(live);
  // One set of keys and one issuer for the row's processes, so the tokens
  // signed for the bearer row verify in the process that measures it.
  const env = await gatehouseEnvironment(databaseUrl);
  const shared = {
    PUBLIC_URL: env.PUBLIC_URL ?? "",
    JWT_SIGNING_KEYS: env.JWT_SIGNING_KEYS ?? "",
    TOKEN_ENCRYPTION_KEYS: env.TOKEN_ENCRYPTION_KEYS ?? "",
  };
  const config = parseConfig({ ...env, ...shared });
  const cacheTtl = `AUTH_CACHE_TTL=${config.session.AUTH_CACHE_TTL / 1000}s`;
  const cookieName = sessionCookieName(config);
  const start = () => startGatehouse(databaseUrl, context.logger, shared);
  const count = { client, table: "sessions" };
  /** Forward-auth requests, each with the credential `credential()` gives. */
  const verifyLoad = (credential: () => Record<string, string>) => async (): Promise<Load> => {
    const next = (): LoadRequest => ({
      path: "/auth/verify",
      headers: { ...forwardedHeaders, ...credential() },
    });
    return { request: next(), expectStatus: 200, perRequest: { next } };
  };
  const cookieLoad = (pick: () => number) =>
    verifyLoad(() => ({ cookie: `${cookieName}=${filledSessionSecret(pick())}` }));
  /** A cookie row, next to the pg ceiling and the peer's rows. */
  const measureCookieRow = (id: string, label: string, load: () => Promise<Load>, run = start) =>
    measureCounted(
      context,
      {
        id,
        label,
        kind: "gatehouse",
        ceiling: ids.ceilingPg,
        peerRows: { noCache: ids.peerNoCache, cookieCache: ids.peerCookieCache },
        sessions: live,
      },
      run,
      load,
      count,
    );

  await measureCookieRow(
    ids.cookie,
    `Gatehouse forward-auth, cookie, random session (${cacheTtl})`,
    cookieLoad(uniformPicker(live)),
  );
  // Signing the pool takes a while: only when the bearer row is measured.
  if (context.wanted(ids.bearer)) {
    const poolSize = bearerPoolSize(live);
    context.log(`signing ${poolSize.toLocaleString("en-US")} access tokens ...`);
    const signing = performance.now();
    const { rows } = await client.query<{
      id: string;
      user_id: string;
      role: "user" | "admin";
      email: string | null;
      email_verified: boolean;
    }>(
      `SELECT s.id, s.user_id, u.role, u.email, u.email_verified FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.expires_at > now() AND s.revoked_at IS NULL ORDER BY random() LIMIT $1`,
      [poolSize],
    );
    const accessTokens = createAccessTokens(config, context.logger);
    const tokens: string[] = [];
    for (let i = 0; i < rows.length; i += 1000) {
      const batch = rows.slice(i, i + 1000);
      const issued = await Promise.all(
        batch.map((r) =>
          accessTokens.issue({
            userId: r.user_id,
            sessionId: r.id,
            role: r.role,
            email: r.email,
            emailVerified: r.email_verified,
          }),
        ),
      );
      for (const t of issued) tokens.push(t.token);
    }
    context.log(`signed in ${((performance.now() - signing) / 1000).toFixed(1)} s`);
    await measureCounted(
      context,
      {
        id: ids.bearer,
        label: `Gatehouse forward-auth, bearer, random token (${cacheTtl})`,
        kind: "gatehouse",
        ceiling: ids.ceilingPg,
        sessions: live,
        note: `a pool of ${formatCount(tokens.length)} tokens over distinct sessions`,
      },
      start,
      verifyLoad(() => ({ authorization: `Bearer ${randomItem(tokens)}` })),
      count,
    );
  }

  if (largest) {
    await measureCookieRow(
      ids.zipf,
      `Gatehouse forward-auth, cookie, Zipf-distributed sessions (s=1, ${cacheTtl}): realistic mix`,
      cookieLoad(zipfPicker(live)),
    );
    // The same mix with longer cache lifetimes: what a longer AUTH_CACHE_TTL buys.
    for (const ttl of longerCacheTtls) {
      await measureCookieRow(
        ids.zipfWithTtl(ttl),
        `Gatehouse forward-auth, cookie, Zipf-distributed sessions (s=1, AUTH_CACHE_TTL=${ttl})`,
        cookieLoad(zipfPicker(live)),
        () => startGatehouse(databaseUrl, context.logger, { ...shared, AUTH_CACHE_TTL: ttl }),
      );
    }
  }
}

/** The Zipf row is also measured at these AUTH_CACHE_TTL values (largest size only). */
const longerCacheTtls = ["10s", "60s"] as const;

/**
 * Runs one part of a size's rows; if it throws, each of `rows` it did not
 * record is recorded as failed with the reason, and the run goes on.
 */
async function part(
  context: ManySessionsContext,
  rows: { id: string; label: string; kind: ScenarioResult["kind"]; sessions: number }[],
  run: (context: ManySessionsContext) => Promise<void>,
) {
  const seen = new Set<string>();
  try {
    await run({
      ...context,
      measure: (row, target, load) => {
        seen.add(row.id);
        return context.measure(row, target, load);
      },
      record: (row) => {
        seen.add(row.id);
        context.record(row);
      },
    });
  } catch (error) {
    const note = error instanceof Error ? error.message.split("\n")[0] : String(error);
    context.log(`many users: ${note}`);
    for (const row of rows) {
      if (!seen.has(row.id)) context.record({ ...row, outcome: "failed", note });
    }
  }
}

export async function runManySessions(context: ManySessionsContext): Promise<void> {
  const { postgres, logger, log, options } = context;
  const databaseUrl = await createGatehouseDatabase(postgres, "gatehouse_bench_many", logger);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const peerDatabase = await ensurePeerInstalled(log)
    .then(() => createPeerDatabase(postgres, "better_auth_bench_many"))
    .catch((error: unknown) => {
      log(`better-auth: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    });
  const peerFilled = { sessions: 0 };
  try {
    await client.query(await sqlFile("fill-users"), [fillUsers]);
    let filled = 0;
    const sizes = manySessionSizes(options);
    for (const live of sizes) {
      const ids = manyIds(live);
      const target = filledForLive(live);
      log(`filling Gatehouse to ${formatCount(live)} live sessions ...`);
      const fillStarted = performance.now();
      await client.query(await sqlFile("fill-sessions"), [filled, target]);
      filled = target;
      await client.query("VACUUM ANALYZE sessions, users");
      await client.query("CHECKPOINT").catch(() => {});
      log(`filled in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s`);

      // Ceilings: one primary-key lookup of a random live session.
      let sessionIds = (
        await client.query<[string]>({
          text: "SELECT id FROM sessions WHERE expires_at > now()",
          rowMode: "array",
        })
      ).rows.map((r) => r[0]);
      for (const [mode, id, label] of [
        ["pg", ids.ceilingPg, "ceiling: Hono + one sessions PK lookup, raw pg"],
        [
          "pg-prepared",
          ids.ceilingPgPrepared,
          "ceiling: Hono + one sessions PK lookup, raw pg, named prepared statement",
        ],
        ["slonik", ids.ceilingSlonik, "ceiling: Hono + one sessions PK lookup, slonik"],
      ] as const) {
        await measureCounted(
          context,
          {
            id,
            label,
            kind: "ceiling",
            sessions: live,
            ...(mode === "pg" ? {} : { ceiling: ids.ceilingPg }),
          },
          () =>
            startServer({
              script: "bench/ceiling-server.ts",
              args: [mode],
              cwd: `${import.meta.dir}/..`,
              env: { DATABASE_URL: databaseUrl, NODE_ENV: "production" },
              readyPath: "/healthz",
            }),
          async () => {
            const next = () => ({ path: `/sessions/${randomItem(sessionIds)}` });
            return { request: next(), expectStatus: 200, perRequest: { next } };
          },
          { client, table: "sessions" },
        );
      }
      sessionIds = [];

      const largest = live === sizes[sizes.length - 1];
      await part(
        context,
        [
          {
            id: ids.cookie,
            label: "Gatehouse forward-auth, cookie, random session",
            kind: "gatehouse",
            sessions: live,
          },
          {
            id: ids.bearer,
            label: "Gatehouse forward-auth, bearer, random token",
            kind: "gatehouse",
            sessions: live,
          },
          ...(largest
            ? [
                {
                  id: ids.zipf,
                  label: "Gatehouse forward-auth, cookie, Zipf-distributed sessions",
                  kind: "gatehouse" as const,
                  sessions: live,
                },
                ...longerCacheTtls.map((ttl) => ({
                  id: ids.zipfWithTtl(ttl),
                  label: `Gatehouse forward-auth, cookie, Zipf-distributed sessions (AUTH_CACHE_TTL=${ttl})`,
                  kind: "gatehouse" as const,
                  sessions: live,
                })),
              ]
            : []),
        ],
        (c) => gatehouseRows(c, databaseUrl, client, live, largest),
      );
      await part(
        context,
        [
          {
            id: ids.peerNoCache,
            label: "peer: better-auth get-session, random session, cookie cache off",
            kind: "peer",
            sessions: live,
          },
          {
            id: ids.peerCookieCache,
            label: "peer: better-auth get-session, random session, cookie cache on",
            kind: "peer",
            sessions: live,
          },
        ],
        async (c) => {
          if (!peerDatabase) throw new Error("better-auth could not be installed");
          await peerRows(c, peerDatabase, peerFilled, live);
        },
      );
    }
  } finally {
    await client.end();
  }
}
