import { randomBytes } from "node:crypto";
import pg from "pg";
import {
  type Load,
  type ManySessionsContext,
  measureCounted,
  type Row,
  randomItem,
} from "./counted-load.ts";
import type { LoadRequest } from "./load.ts";
import { type Peer, peerCookieValue, peerSessionCookie, startPeer } from "./peer.ts";
import { formatCount, manyIds } from "./report.ts";
import { fillUsers, sqlFile } from "./scale.ts";
import { filledForLive, uniformPicker } from "./session-picks.ts";

// better-auth's get-session over as many of its own sessions as Gatehouse's
// many-users rows spread over, with its cookie cache off and on.

/** Browsers whose better-auth cache cookie is collected for the cache-on row. */
const peerCachePool = 2_000;

/**
 * Cookies of `size` random sessions whose browsers asked better-auth (cache
 * on) within the cache's lifetime: the session cookie and the signed
 * session-data cookie it set, by which it answers without the database.
 */
async function peerCacheCookies(
  peer: Peer,
  tokenCookie: () => string,
  size: number,
): Promise<string[]> {
  const pool: string[] = [];
  while (pool.length < size) {
    const batch = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const cookie = tokenCookie();
        const response = await fetch(`${peer.baseUrl}/api/auth/get-session`, {
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
  return pool;
}

export async function peerRows(
  context: ManySessionsContext,
  peerDatabase: string,
  filled: { sessions: number },
  live: number,
) {
  const ids = manyIds(live);
  const client = new pg.Client({ connectionString: peerDatabase });
  await client.connect();
  const secret = randomBytes(32).toString("base64url");
  const uniform = uniformPicker(live);
  const tokenCookie = () =>
    `${peerSessionCookie}=${peerCookieValue(String(uniform()).padStart(32, "x"), secret)}`;
  const getSession = (cookie: string): LoadRequest => ({
    path: "/api/auth/get-session",
    headers: { cookie },
  });
  const probed = async (load: Load, baseUrl: string) => {
    const probe = await fetch(`${baseUrl}${load.request.path}`, { headers: load.request.headers });
    const body = (await probe.json().catch(() => null)) as { session?: unknown } | null;
    if (probe.status !== 200 || !body?.session) {
      throw new Error(`better-auth get-session of a filled session answered ${probe.status}`);
    }
    return load;
  };
  try {
    const target = filledForLive(live);
    if (filled.sessions < target) {
      // The peer's own migrations make its tables when it starts.
      context.log(`filling better-auth to ${formatCount(live)} live sessions ...`);
      const peer = await startPeer(peerDatabase, false, secret);
      await peer.stop();
      await client.query(await sqlFile("fill-peer-users"), [fillUsers]);
      await client.query(await sqlFile("fill-peer-sessions"), [filled.sessions, target]);
      await client.query('VACUUM ANALYZE "session", "user"');
      await client.query("CHECKPOINT").catch(() => {});
      filled.sessions = target;
    }
    const row = (cookieCache: boolean): Row => ({
      id: cookieCache ? ids.peerCookieCache : ids.peerNoCache,
      label: `peer: better-auth get-session, random session, cookie cache ${cookieCache ? "on" : "off"}`,
      kind: "peer",
      ceiling: ids.ceilingPg,
      sessions: live,
    });
    const count = { client, table: "session" };
    await measureCounted(
      context,
      row(false),
      () => startPeer(peerDatabase, false, secret),
      async (server) => {
        const next = () => getSession(tokenCookie());
        return probed({ request: next(), expectStatus: 200, perRequest: { next } }, server.baseUrl);
      },
      count,
    );
    // Collected from a process of its own (same secret), so its reads are
    // not counted with the row's.
    let pool: string[] = [];
    const collector = await startPeer(peerDatabase, true, secret);
    try {
      pool = await peerCacheCookies(collector, tokenCookie, Math.min(peerCachePool, live));
    } catch (error) {
      const note = error instanceof Error ? error.message.split("\n")[0] : String(error);
      context.record({ ...row(true), outcome: "failed", note });
    } finally {
      await collector.stop();
    }
    if (pool.length > 0) {
      await measureCounted(
        context,
        row(true),
        () => startPeer(peerDatabase, true, secret),
        async (server) => {
          const next = () => getSession(randomItem(pool));
          return probed(
            { request: next(), expectStatus: 200, perRequest: { next } },
            server.baseUrl,
          );
        },
        count,
      );
    }
  } finally {
    await client.end();
  }
}
