import pg from "pg";
import { createAccessTokens } from "../src/auth/access-tokens.ts";
import type { Logger } from "../src/logger.ts";
import { type BenchPostgres, createGatehouseDatabase } from "./database.ts";
import { type Gatehouse, startGatehouse } from "./gatehouse.ts";
import type { LoadOptions, LoadRequest } from "./load.ts";
import type { BenchOptions } from "./options.ts";
import {
  createPeerDatabase,
  ensurePeerInstalled,
  type Peer,
  peerCookieValue,
  peerSessionCookie,
  startPeer,
} from "./peer.ts";
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
// fill as `bench scale`), growing from one size to the next.

type Row = Omit<ScenarioResult, "outcome" | "measurement">;
type Load = Pick<LoadOptions, "request" | "perRequest" | "expectStatus" | "sessionReads">;
type Target = { baseUrl: string; pid: number };

export type ManySessionsContext = {
  options: BenchOptions;
  postgres: BenchPostgres;
  logger: Logger;
  log: (line: string) => void;
  /** Runs the load and records the row. */
  measure: (row: Row, target: Target, load: Load) => Promise<void>;
  /** Records a row that could not be measured. */
  record: (row: ScenarioResult) => void;
};

/** Live sessions the many-users rows spread their requests over. */
export function manySessionSizes(options: BenchOptions): number[] {
  return options.quick ? [1_000, 10_000] : [10_000, 1_000_000];
}

/**
 * Distinct sessions that get a signed bearer token. Signing one costs about
 * as much as verifying one, so a token for each of 10^6 sessions would take
 * minutes and hundreds of MB in the bench process; 10^5 tokens over distinct
 * random sessions are ten times the server's verified-signature cache
 * (src/auth/access-tokens.ts), so most requests still pay the signature
 * check and the database read, and 10^5 random rows touch nearly every heap
 * page of a 10^6-row table.
 */
export const bearerPoolSize = (live: number) => Math.min(live, 100_000);
/** Browsers whose better-auth cache cookie is collected for the cache-on row. */
const peerCachePool = 2_000;

const randomItem = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)] as T;

/** Index scans of `table` so far (pg_stat_user_tables, flushed by each backend at most once a second). */
async function indexScans(client: pg.Client, table: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    "SELECT coalesce(sum(idx_scan), 0)::float8 AS n FROM pg_stat_user_tables WHERE relname = $1",
    [table],
  );
  return rows[0]?.n ?? 0;
}

async function answers(baseUrl: string, request: LoadRequest, status: number): Promise<string> {
  const response = await fetch(`${baseUrl}${request.path}`, { headers: request.headers });
  const body = await response.text();
  return response.status === status
    ? ""
    : `probe answered ${response.status}: ${body.slice(0, 200)}`;
}

async function gatehouseRows(
  context: ManySessionsContext,
  gatehouse: Gatehouse,
  client: pg.Client,
  live: number,
  largest: boolean,
) {
  const ids = manyIds(live);
  const ttl = `AUTH_CACHE_TTL=${gatehouse.config.AUTH_CACHE_TTL / 1000}s`;
  const peerRows = { noCache: ids.peerNoCache, cookieCache: ids.peerCookieCache };
  const sessionReads = () => indexScans(client, "sessions");
  const cookieRequest = (n: number): LoadRequest => ({
    path: "/auth/verify",
    headers: { ...forwardedHeaders, cookie: `${gatehouse.cookieName}=${filledSessionSecret(n)}` },
  });
  const run = async (row: Row, next: () => LoadRequest) => {
    const request = next();
    const problem = await answers(gatehouse.baseUrl, request, 200);
    if (problem) {
      context.record({ ...row, outcome: "failed", note: problem });
      return;
    }
    await context.measure(row, gatehouse, {
      request,
      expectStatus: 200,
      perRequest: { next },
      sessionReads,
    });
  };

  const uniform = uniformPicker(live);
  await run(
    {
      id: ids.cookie,
      label: `Gatehouse forward-auth, cookie, random session (${ttl})`,
      kind: "gatehouse",
      ceiling: ids.ceilingPg,
      peerRows,
      sessions: live,
    },
    () => cookieRequest(uniform()),
  );

  const poolSize = bearerPoolSize(live);
  context.log(`signing ${poolSize.toLocaleString("en-US")} access tokens ...`);
  const { rows } = await client.query<{ id: string; user_id: string; role: "user" | "admin" }>(
    `SELECT s.id, s.user_id, u.role FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.expires_at > now() AND s.revoked_at IS NULL ORDER BY random() LIMIT $1`,
    [poolSize],
  );
  const accessTokens = createAccessTokens(gatehouse.config, context.logger);
  const tokens: string[] = [];
  const signing = performance.now();
  for (let i = 0; i < rows.length; i += 1000) {
    const batch = rows.slice(i, i + 1000);
    const issued = await Promise.all(
      batch.map((r) => accessTokens.issue({ userId: r.user_id, sessionId: r.id, role: r.role })),
    );
    for (const t of issued) tokens.push(t.token);
  }
  context.log(`signed in ${((performance.now() - signing) / 1000).toFixed(1)} s`);
  await run(
    {
      id: ids.bearer,
      label: `Gatehouse forward-auth, bearer, random token (${ttl})`,
      kind: "gatehouse",
      ceiling: ids.ceilingPg,
      sessions: live,
      note: `a pool of ${formatCount(tokens.length)} tokens over distinct sessions`,
    },
    () => ({
      path: "/auth/verify",
      headers: { ...forwardedHeaders, authorization: `Bearer ${randomItem(tokens)}` },
    }),
  );

  if (largest) {
    const zipf = zipfPicker(live);
    await run(
      {
        id: ids.zipf,
        label: `Gatehouse forward-auth, cookie, Zipf-distributed sessions (s=1, ${ttl}): realistic mix`,
        kind: "gatehouse",
        ceiling: ids.ceilingPg,
        peerRows,
        sessions: live,
      },
      () => cookieRequest(zipf()),
    );
  }
}

async function peerRows(
  context: ManySessionsContext,
  peerDatabase: string,
  filled: { sessions: number },
  live: number,
) {
  const ids = manyIds(live);
  const client = new pg.Client({ connectionString: peerDatabase });
  await client.connect();
  try {
    for (const cookieCache of [false, true]) {
      const row: Row = {
        id: cookieCache ? ids.peerCookieCache : ids.peerNoCache,
        label: `peer: better-auth get-session, random session, cookie cache ${cookieCache ? "on" : "off"}`,
        kind: "peer",
        ceiling: ids.ceilingPg,
        sessions: live,
      };
      let peer: Peer | null = null;
      try {
        peer = await startPeer(peerDatabase, cookieCache);
        const target = filledForLive(live);
        if (filled.sessions < target) {
          // The peer's own migrations made its tables when it first started.
          context.log(`filling better-auth to ${formatCount(live)} live sessions ...`);
          await client.query(await sqlFile("fill-peer-users"), [fillUsers]);
          await client.query(await sqlFile("fill-peer-sessions"), [filled.sessions, target]);
          await client.query('VACUUM ANALYZE "session", "user"');
          await client.query("CHECKPOINT").catch(() => {});
          filled.sessions = target;
        }
        const { secret, baseUrl } = peer;
        const uniform = uniformPicker(live);
        const tokenCookie = (n: number) =>
          `${peerSessionCookie}=${peerCookieValue(String(n).padStart(32, "x"), secret)}`;
        let next = (): LoadRequest => ({
          path: "/api/auth/get-session",
          headers: { cookie: tokenCookie(uniform()) },
        });
        if (cookieCache) {
          // A browser that asked within the cache's lifetime holds its signed
          // session-data cookie, so better-auth answers without the database:
          // collect that cookie for a pool of sessions, as their browsers would.
          const pool: string[] = [];
          while (pool.length < Math.min(peerCachePool, live)) {
            const batch = await Promise.all(
              Array.from({ length: 16 }, async () => {
                const cookie = tokenCookie(uniform());
                const response = await fetch(`${baseUrl}/api/auth/get-session`, {
                  headers: { cookie },
                });
                await response.body?.cancel();
                const data = response.headers
                  .getSetCookie()
                  .map((c) => c.split(";")[0] ?? "")
                  .filter((c) => c.startsWith("better-auth.session_data="));
                return data.length > 0 ? `${cookie}; ${data.join("; ")}` : null;
              }),
            );
            const got = batch.filter((c) => c !== null);
            if (got.length === 0) throw new Error("better-auth set no session_data cookie");
            pool.push(...got);
          }
          next = () => ({ path: "/api/auth/get-session", headers: { cookie: randomItem(pool) } });
        }
        const request = next();
        const probe = await fetch(`${baseUrl}${request.path}`, { headers: request.headers });
        const body = (await probe.json().catch(() => null)) as { session?: unknown } | null;
        if (probe.status !== 200 || !body?.session) {
          throw new Error(`better-auth get-session of a filled session answered ${probe.status}`);
        }
        await context.measure(row, peer, {
          request,
          expectStatus: 200,
          perRequest: { next },
          sessionReads: () => indexScans(client, "session"),
        });
      } catch (error) {
        const note = error instanceof Error ? error.message.split("\n")[0] : String(error);
        context.record({ ...row, outcome: "failed", note });
      } finally {
        await peer?.stop();
      }
    }
  } finally {
    await client.end();
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
      const sessionReads = () => indexScans(client, "sessions");

      // Ceilings: one primary-key lookup of a random live session.
      let sessionIds = (
        await client.query<[string]>({
          text: "SELECT id FROM sessions WHERE expires_at > now()",
          rowMode: "array",
        })
      ).rows.map((r) => r[0]);
      for (const [mode, id, label] of [
        ["pg", ids.ceilingPg, "ceiling: Hono + one sessions PK lookup, raw pg"],
        ["slonik", ids.ceilingSlonik, "ceiling: Hono + one sessions PK lookup, slonik"],
      ] as const) {
        const server = await startServer({
          script: "bench/ceiling-server.ts",
          args: [mode],
          cwd: `${import.meta.dir}/..`,
          env: { DATABASE_URL: databaseUrl, NODE_ENV: "production" },
          readyPath: "/healthz",
        });
        try {
          const next = () => ({ path: `/sessions/${randomItem(sessionIds)}` });
          await context.measure(
            {
              id,
              label,
              kind: "ceiling",
              sessions: live,
              ...(mode === "slonik" ? { ceiling: ids.ceilingPg } : {}),
            },
            server,
            { request: next(), expectStatus: 200, perRequest: { next }, sessionReads },
          );
        } finally {
          await server.stop();
        }
      }
      sessionIds = [];

      const gatehouse = await startGatehouse(databaseUrl, logger);
      try {
        await gatehouseRows(context, gatehouse, client, live, live === sizes[sizes.length - 1]);
      } finally {
        await gatehouse.stop();
      }

      if (peerDatabase) await peerRows(context, peerDatabase, peerFilled, live);
      else {
        for (const [id, on] of [
          [ids.peerNoCache, "off"],
          [ids.peerCookieCache, "on"],
        ] as const) {
          context.record({
            id,
            label: `peer: better-auth get-session, random session, cookie cache ${on}`,
            kind: "peer",
            outcome: "failed",
            note: "better-auth could not be installed",
            sessions: live,
          });
        }
      }
    }
  } finally {
    await client.end();
  }
}
