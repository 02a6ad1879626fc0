import { cpus } from "node:os";
import type { Logger } from "../src/logger.ts";
import { hashPassword } from "../src/password/hashing.ts";
import { type BenchPostgres, createGatehouseDatabase } from "./database.ts";
import { benchPassword, seedSessionCookie, seedUser, startGatehouse } from "./gatehouse.ts";
import { type LoadOptions, percentile, runLoad } from "./load.ts";
import { reportHeading } from "./machine.ts";
import { runManySessions } from "./many-sessions.ts";
import { startOidcIssuer } from "./oidc-issuer.ts";
import type { BenchOptions } from "./options.ts";
import { createPeerDatabase, ensurePeerInstalled, startPeer } from "./peer.ts";
import { startServer } from "./processes.ts";
import {
  checkTargets,
  type HotPathReport,
  type Measurement,
  peerIds,
  type ScenarioResult,
} from "./report.ts";
import { forwardedHeaders, gatehouseScenarios } from "./scenarios.ts";

type Log = (line: string) => void;

function loadSettings(options: BenchOptions) {
  return {
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    connections: options.connections,
  };
}

function summary(row: ScenarioResult): string {
  const m = row.measurement;
  if (!m) return `${row.label}: ${row.outcome}: ${row.note ?? ""}`;
  return `${row.label}: ${Math.round(m.requestsPerSecond)} req/s, p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms.toFixed(2)} ms${m.failures ? `, ${m.failures} failed` : ""}`;
}

/**
 * Bun.password.verify's own rate against the hash Gatehouse stores: as many
 * verifications in flight as there are cores, for the scenario's duration.
 * Password sign-in cannot beat it; it is the login scenario's ceiling.
 */
async function measurePasswordVerify(hash: string, seconds: number): Promise<Measurement> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    cpus().map(async () => {
      while (performance.now() < end) {
        const t = performance.now();
        if (!(await Bun.password.verify(benchPassword, hash))) throw new Error("verify failed");
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const sorted = Float64Array.from(latencies).sort();
  return {
    requestsPerSecond: latencies.length / elapsed,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    rssMb: null,
    cpuUsPerRequest: (cpu.user + cpu.system) / Math.max(1, latencies.length),
    requests: latencies.length,
    failures: 0,
  };
}

export async function runHotPaths(
  options: BenchOptions,
  postgres: BenchPostgres,
  logger: Logger,
  log: Log,
): Promise<HotPathReport> {
  const settings = loadSettings(options);
  const results: ScenarioResult[] = [];
  const measure = async (
    row: Omit<ScenarioResult, "outcome">,
    target: { baseUrl: string; pid: number },
    load: Pick<LoadOptions, "request" | "perRequest" | "expectStatus"> & { connections?: number },
  ) => {
    const { warmupRequests, ...measurement } = await runLoad({
      ...settings,
      ...target,
      ...load,
      connections: load.connections ?? settings.connections,
    });
    const result: ScenarioResult = { ...row, outcome: "measured", measurement };
    results.push(result);
    log(summary(result));
    return { result, warmupRequests };
  };

  const databaseUrl = await createGatehouseDatabase(postgres, "gatehouse_bench", logger);

  // Seed ---------------------------------------------------------------------
  const gatehouse = await startGatehouse(databaseUrl, logger);
  // The cost the server is configured with, as a sign-up would store it.
  const passwordHash = await hashPassword(benchPassword, gatehouse.config.passwords);
  const email = "bench@example.com";
  const userId = await seedUser(gatehouse.pool, email, passwordHash);
  const cookie = await seedSessionCookie(gatehouse, userId);
  const { cookieName } = gatehouse;
  // Only one server runs at a time, so none competes with another for the
  // cores; the ceilings look up this same user row in this same database.
  await gatehouse.stop();

  // BENCH_ONLY=id,id: only those rows (ceiling-pg, verify-cookie, peer,
  // password-verify, many-users, ...), for a quick A/B of a few hot paths;
  // a many-users row by its id with the session count
  // (verify-cookie-random@1000000) runs just that one of them.
  const only = process.env.BENCH_ONLY?.split(",").filter(Boolean);
  const wanted = (id: string) => !only || only.includes(id);
  const manyUsersRows = only?.filter((id) => id.includes("@")) ?? [];
  const wantedManyUsersRow = (id: string) =>
    wanted("many-users") || manyUsersRows.length === 0 || manyUsersRows.includes(id);

  // Ceilings -----------------------------------------------------------------
  const ceilings = [
    { id: "ceiling-json", mode: "json", label: "ceiling: Hono on Bun, small JSON", path: "/json" },
    {
      id: "ceiling-pg",
      mode: "pg",
      label: "ceiling: Hono + one PK lookup, raw pg",
      path: `/users/${userId}`,
    },
    {
      id: "ceiling-slonik",
      mode: "slonik",
      label: "ceiling: Hono + one PK lookup, slonik (Gatehouse's pool)",
      path: `/users/${userId}`,
      ceiling: "ceiling-pg",
    },
    {
      id: "bare-session-check",
      mode: "session",
      label: "diagnostic: Hono + Gatehouse's session check (validateSession), no middleware",
      path: "/auth/verify",
      ceiling: "ceiling-pg",
      headers: { ...forwardedHeaders, cookie },
    },
  ];
  for (const c of ceilings.filter((c) => wanted(c.id))) {
    const server = await startServer({
      script: "bench/ceiling-server.ts",
      args: [c.mode],
      cwd: `${import.meta.dir}/..`,
      env: { DATABASE_URL: databaseUrl, NODE_ENV: "production", SESSION_COOKIE: cookieName },
      readyPath: "/healthz",
    });
    try {
      await measure({ id: c.id, label: c.label, kind: "ceiling", ceiling: c.ceiling }, server, {
        request: { path: c.path, headers: c.headers },
        expectStatus: 200,
      });
    } finally {
      await server.stop();
    }
  }

  // Peer ----------------------------------------------------------------------
  if (wanted("peer"))
    try {
      await ensurePeerInstalled(log);
      const peerDatabase = await createPeerDatabase(postgres);
      for (const cookieCache of [false, true]) {
        const peer = await startPeer(peerDatabase, cookieCache);
        try {
          await measure(
            {
              id: cookieCache ? peerIds.cookieCache : peerIds.noCache,
              label: `peer: better-auth get-session, one session, cookie cache ${cookieCache ? "on" : "off"}`,
              kind: "peer",
              ceiling: "ceiling-pg",
            },
            peer,
            { request: peer.request, expectStatus: 200 },
          );
        } finally {
          await peer.stop();
        }
      }
    } catch (error) {
      const note = error instanceof Error ? error.message.split("\n")[0] : String(error);
      for (const [id, on] of [
        [peerIds.noCache, "off"],
        [peerIds.cookieCache, "on"],
      ] as const) {
        if (results.some((r) => r.id === id)) continue;
        results.push({
          id,
          label: `peer: better-auth get-session, one session, cookie cache ${on}`,
          kind: "peer",
          outcome: "failed",
          note,
        });
      }
      log(`better-auth: ${note}`);
    }

  // Gatehouse -----------------------------------------------------------------
  const issuer = await startOidcIssuer({
    sub: "bench-oidc-user",
    email: "bench-oidc@example.com",
  }).catch((error: unknown) => {
    log(`no local OIDC issuer: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  });
  const server = await startGatehouse(
    databaseUrl,
    logger,
    issuer
      ? {
          OIDC_ISSUER: issuer.url,
          OIDC_CLIENT_ID: "gatehouse-bench",
          OIDC_CLIENT_SECRET: "gatehouse-bench-secret",
          NODE_EXTRA_CA_CERTS: issuer.caFile,
        }
      : {},
  );
  try {
    for (const scenario of gatehouseScenarios.filter((s) => wanted(s.id))) {
      const row = {
        id: scenario.id,
        label: scenario.label,
        kind: "gatehouse" as const,
        ceiling: scenario.ceiling,
        comparePeer: scenario.comparePeer,
      };
      // One broken scenario is a row saying why, not a lost run.
      try {
        const prepared = await scenario.prepare({
          gatehouse: server,
          userId,
          email,
          password: benchPassword,
          cookie,
          connections: settings.connections,
          loadSeconds: settings.warmupSeconds + settings.durationSeconds,
          oidcIssuer: issuer ? { url: issuer.url, ca: issuer.ca } : null,
        });
        if (prepared.kind === "load") {
          const { connections } = prepared.load;
          await measure(
            connections ? { ...row, note: `${connections} connections` } : row,
            server,
            prepared.load,
          );
        } else {
          const result: ScenarioResult = { ...row, outcome: prepared.kind, note: prepared.note };
          results.push(result);
          log(summary(result));
        }
      } catch (error) {
        const note = error instanceof Error ? error.message.split("\n")[0] : String(error);
        const result: ScenarioResult = { ...row, outcome: "failed", note };
        results.push(result);
        log(summary(result));
      }
    }
  } finally {
    await server.stop();
    issuer?.stop();
  }

  if (wanted("password-verify")) {
    const verify: ScenarioResult = {
      id: "password-verify",
      label: "raw Bun.password.verify (argon2id, same hash), in-process",
      kind: "raw",
      outcome: "measured",
      measurement: await measurePasswordVerify(passwordHash, settings.durationSeconds),
    };
    results.push(verify);
    log(summary(verify));
  }

  // Many users -----------------------------------------------------------------
  if (wanted("many-users") || manyUsersRows.length > 0)
    await runManySessions({
      wanted: wantedManyUsersRow,
      options,
      postgres,
      logger,
      log,
      measure,
      record: (row) => {
        results.push(row);
        log(summary(row));
      },
    });

  return {
    ...(await reportHeading("hot-paths", options.quick, postgres)),
    settings,
    results,
    targets: checkTargets(results),
  };
}
