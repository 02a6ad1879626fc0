import { cpus } from "node:os";
import type { Gatehouse } from "./gatehouse.ts";
import type { LoadOptions, LoadRequest } from "./load.ts";

// Gatehouse's hot paths. Each one first probes its route on the running
// server: a 404 means the feature is not built on this branch yet and the
// scenario is reported as skipped; any other unexpected answer is a failure
// worth reading, not a figure.

export type ScenarioContext = {
  gatehouse: Gatehouse;
  userId: string;
  email: string;
  password: string;
  /** `name=value` of a live session of the user. */
  cookie: string;
  connections: number;
  /** Warm-up plus measured seconds: how many one-use OAuth flows to prepare. */
  loadSeconds: number;
  /** The fake OIDC issuer Gatehouse is configured with (and its certificate), when it started. */
  oidcIssuer: { url: string; ca: string } | null;
};

export type Prepared =
  | {
      kind: "load";
      load: Pick<LoadOptions, "request" | "perRequest" | "expectStatus"> & { connections?: number };
    }
  | { kind: "skipped" | "failed"; note: string };

export type GatehouseScenario = {
  id: string;
  label: string;
  ceiling: string;
  comparePeer: boolean;
  prepare: (context: ScenarioContext) => Promise<Prepared>;
};

export const notBuiltYet = "not built yet";

/** What nginx/Caddy/Traefik send along with a forward-auth call. */
export const forwardedHeaders = {
  "x-forwarded-method": "GET",
  "x-forwarded-proto": "https",
  "x-forwarded-host": "app.example.com",
  "x-forwarded-uri": "/dashboard?tab=1",
};

async function send(gatehouse: Gatehouse, request: LoadRequest): Promise<Response> {
  return fetch(`${gatehouse.baseUrl}${request.path}`, {
    method: request.method ?? "GET",
    headers: request.headers,
    body: request.body,
  });
}

/** One request before the load: is the route there, and does it answer as expected? */
async function probe(
  gatehouse: Gatehouse,
  request: LoadRequest,
  expectStatus: number,
): Promise<Prepared | null> {
  const response = await send(gatehouse, request);
  const body = await response.text();
  if (response.status === expectStatus) return null;
  if (response.status === 404) return { kind: "skipped", note: notBuiltYet };
  return { kind: "failed", note: `probe answered ${response.status}: ${body.slice(0, 200)}` };
}

async function loadIfProbed(
  gatehouse: Gatehouse,
  request: LoadRequest,
  expectStatus = 200,
): Promise<Prepared> {
  return (
    (await probe(gatehouse, request, expectStatus)) ?? {
      kind: "load",
      load: { request, expectStatus },
    }
  );
}

type TokenPair = { access_token: string; refresh_token: string };

/**
 * A fresh access/refresh pair for the seeded user: from the browser session
 * (POST /auth/token/session) when that exists, else the password grant.
 * Null while neither route is built.
 */
export async function issueTokenPair(context: ScenarioContext): Promise<TokenPair | null> {
  const { gatehouse } = context;
  const fromSession = await send(gatehouse, {
    method: "POST",
    path: "/auth/token/session",
    headers: { cookie: context.cookie, origin: gatehouse.config.http.PUBLIC_URL },
  });
  if (fromSession.status === 200) return (await fromSession.json()) as TokenPair;
  const fromPassword = await send(gatehouse, {
    method: "POST",
    path: "/auth/token",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      grant_type: "password",
      email: context.email,
      username: context.email,
      password: context.password,
    }),
  });
  if (fromPassword.status === 200) return (await fromPassword.json()) as TokenPair;
  return null;
}

type PreparedFlow = { cookie: string; path: string };

/**
 * One sign-in flow started and consented: the flow cookie Gatehouse set at
 * /auth/oidc/login and the callback path (code, state) the issuer sent the
 * browser back to. Each can be completed once.
 */
async function prepareFlow(gatehouse: Gatehouse, ca: string): Promise<PreparedFlow | null> {
  const login = await fetch(`${gatehouse.baseUrl}/auth/oidc/login`, { redirect: "manual" });
  const authorize = login.headers.get("location");
  if (login.status !== 302 || !authorize) return null;
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  const consent = await fetch(authorize, { redirect: "manual", tls: { ca } });
  const callback = consent.headers.get("location");
  if (consent.status !== 302 || !callback) return null;
  const url = new URL(callback);
  return { cookie, path: `${url.pathname}${url.search}` };
}

export const gatehouseScenarios: GatehouseScenario[] = [
  {
    id: "verify-cookie",
    label: "Gatehouse forward-auth GET /auth/verify, cookie, one session (best case)",
    ceiling: "ceiling-pg",
    comparePeer: true,
    prepare: ({ gatehouse, cookie }) =>
      loadIfProbed(gatehouse, { path: "/auth/verify", headers: { ...forwardedHeaders, cookie } }),
  },
  {
    id: "verify-bearer",
    label: "Gatehouse forward-auth GET /auth/verify, bearer token, one token (best case)",
    ceiling: "ceiling-json",
    comparePeer: false,
    prepare: async (context) => {
      const verify = await probe(
        context.gatehouse,
        { path: "/auth/verify", headers: forwardedHeaders },
        401,
      );
      if (verify) return verify;
      const pair = await issueTokenPair(context);
      if (!pair) return { kind: "skipped", note: `${notBuiltYet} (no way to obtain a token)` };
      return loadIfProbed(context.gatehouse, {
        path: "/auth/verify",
        headers: { ...forwardedHeaders, authorization: `Bearer ${pair.access_token}` },
      });
    },
  },
  {
    id: "me-cookie",
    label: "Gatehouse GET /me, cookie, one session (best case)",
    ceiling: "ceiling-pg",
    comparePeer: true,
    prepare: ({ gatehouse, cookie }) =>
      loadIfProbed(gatehouse, { path: "/me", headers: { cookie } }),
  },
  {
    id: "token-refresh",
    label: "Gatehouse POST /auth/token refresh rotation",
    ceiling: "ceiling-pg",
    comparePeer: false,
    prepare: async (context) => {
      const first = await issueTokenPair(context);
      if (!first) return { kind: "skipped", note: `${notBuiltYet} (no way to obtain a token)` };
      const refresh = (token: string): LoadRequest => ({
        method: "POST",
        path: "/auth/token",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ grant_type: "refresh_token", refresh_token: token }),
      });
      const probed = await send(context.gatehouse, refresh(first.refresh_token));
      if (probed.status !== 200) {
        return {
          kind: probed.status === 404 ? "skipped" : "failed",
          note: `refresh probe answered ${probed.status}`,
        };
      }
      // Tokens not yet used: each request takes one and its answer puts the
      // rotated one back. A used token is never sent again, or reuse
      // detection (rightly) revokes its family.
      const unused: string[] = [((await probed.json()) as TokenPair).refresh_token];
      while (unused.length < context.connections * 2) {
        const pair = await issueTokenPair(context);
        if (!pair) return { kind: "failed", note: "could not issue enough token pairs" };
        unused.push(pair.refresh_token);
      }
      return {
        kind: "load",
        load: {
          expectStatus: 200,
          request: refresh(unused[0] ?? ""),
          perRequest: {
            next: () => refresh(unused.shift() ?? "none left"),
            onResponse: (status, body) => {
              if (status === 200) unused.push((JSON.parse(body) as TokenPair).refresh_token);
            },
          },
        },
      };
    },
  },
  {
    id: "password-login",
    label: "Gatehouse POST /auth/login, password",
    ceiling: "password-verify",
    comparePeer: false,
    prepare: async ({ gatehouse, email, password }) => {
      const prepared = await loadIfProbed(gatehouse, {
        method: "POST",
        path: "/auth/login",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password }),
      });
      // Hash-bound: two verifications in flight per core keep every core
      // busy; more connections would only queue past autocannon's timeout.
      return prepared.kind === "load"
        ? { ...prepared, load: { ...prepared.load, connections: cpus().length * 2 } }
        : prepared;
    },
  },
  {
    id: "oauth-callback",
    label: "Gatehouse OAuth callback (OIDC, local issuer over TLS)",
    ceiling: "ceiling-pg",
    comparePeer: false,
    prepare: async ({ gatehouse, oidcIssuer, loadSeconds }) => {
      if (!oidcIssuer) return { kind: "skipped", note: "no local issuer (openssl missing?)" };
      const probe = await prepareFlow(gatehouse, oidcIssuer.ca);
      if (!probe) return { kind: "skipped", note: notBuiltYet };
      const first = await fetch(`${gatehouse.baseUrl}${probe.path}`, {
        headers: { cookie: probe.cookie },
        redirect: "manual",
      });
      if (first.status !== 302 || !first.headers.get("location")?.startsWith("/")) {
        return { kind: "failed", note: `callback probe answered ${first.status}` };
      }
      // Every callback consumes its flow: prepare enough for 300 callbacks a
      // second, well above what one replica completes (token exchange over
      // TLS, ID token check, user and session writes).
      const flows: PreparedFlow[] = [];
      const wanted = Math.ceil(loadSeconds * 300);
      while (flows.length < wanted) {
        const batch = (
          await Promise.all(Array.from({ length: 8 }, () => prepareFlow(gatehouse, oidcIssuer.ca)))
        ).filter((flow) => flow !== null);
        if (batch.length === 0) return { kind: "failed", note: "could not start sign-in flows" };
        flows.push(...batch);
      }
      const callback = (flow: PreparedFlow | undefined): LoadRequest => ({
        path: flow?.path ?? "/auth/oidc/callback",
        headers: { cookie: flow?.cookie ?? "" },
      });
      return {
        kind: "load",
        load: {
          expectStatus: 302,
          request: callback(flows[0]),
          perRequest: { next: () => callback(flows.shift()) },
        },
      };
    },
  },
];
