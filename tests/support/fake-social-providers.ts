// A small fake GitHub, Google and X on 127.0.0.1, speaking the endpoints that
// our social sign-in calls: authorize, token, user, user/emails, user/orgs,
// user/teams, Google's userinfo and X's users/me. Token requests are read as
// the real providers document them: a form body (RFC 6749 §4.1.3), X's client
// in Basic auth. Codes are single-use and bound to the client and
// redirect_uri, as the real ones are; X's are also bound to their PKCE
// challenge (S256).
// Outbound requests reach it through tests/support/provider-routing.ts.

export type FakeGitHubUser = {
  id: number;
  login: string;
  name?: string;
  emails: { email: string; primary: boolean; verified: boolean }[];
  orgs?: string[];
  teams?: { org: string; slug: string }[];
};

let gitHubIds = 100_000;
/** A GitHub person with a fresh id and login and one primary, verified address. */
export function gitHubUser(email: string, overrides: Partial<FakeGitHubUser> = {}): FakeGitHubUser {
  const id = ++gitHubIds;
  return {
    id,
    login: `user${id}`,
    name: `User ${id}`,
    emails: [{ email, primary: true, verified: true }],
    ...overrides,
  };
}

export type FakeGoogleUser = {
  id: string;
  email: string;
  verified_email: boolean;
  name?: string;
};

/** What an endpoint does instead of answering properly, for the next `times` calls. */
export type Breakage = "500-html" | "garbage" | "500-json";

export type FakeXUser = { id: string; name: string; username: string };

type Provider = "github" | "google" | "x";
type Grant = {
  provider: Provider;
  userKey: string;
  redirectUri: string | null;
  codeChallenge?: string | null;
};

const challengeOf = (verifier: string) =>
  new Bun.CryptoHasher("sha256").update(verifier).digest("base64url");

export const fakeClient = { id: "fake-client-id", secret: "fake-client-secret" };

export async function startFakeSocialProviders() {
  const githubUsers = new Map<string, FakeGitHubUser>();
  const googleUsers = new Map<string, FakeGoogleUser>();
  const xUsers = new Map<string, FakeXUser>();
  const codes = new Map<string, Grant>();
  const tokens = new Map<string, Grant>();
  const breakages = new Map<string, { kind: Breakage; times: number }>();
  const signedIn = { github: "", google: "", x: "" };
  const deny = { github: false, google: false, x: false };
  /** Every request the fake saw: `host path`, for asserting what was called. */
  const calls: string[] = [];
  /** redirect_uri and scope as each authorize request carried them. */
  const authorizeRequests: URLSearchParams[] = [];

  const json = (body: unknown, status = 200) => Response.json(body, { status });
  const newSecret = () => crypto.randomUUID().replaceAll("-", "");

  function broken(endpoint: string): Response | null {
    const breakage = breakages.get(endpoint);
    if (!breakage || breakage.times <= 0) return null;
    breakage.times--;
    if (breakage.kind === "500-html") {
      return new Response("<html><body>Internal error</body></html>", {
        status: 500,
        headers: { "content-type": "text/html" },
      });
    }
    if (breakage.kind === "500-json") return json({ message: "Server Error" }, 500);
    return new Response("\u0000not json{", { headers: { "content-type": "application/json" } });
  }

  function authorize(provider: Provider, url: URL): Response {
    const params = url.searchParams;
    authorizeRequests.push(params);
    const redirectUri = params.get("redirect_uri");
    if (params.get("client_id") !== fakeClient.id || !redirectUri) {
      return new Response("unknown client or no redirect_uri", { status: 400 });
    }
    const back = new URL(redirectUri);
    if (params.get("state")) back.searchParams.set("state", params.get("state") ?? "");
    if (deny[provider]) {
      back.searchParams.set("error", "access_denied");
      back.searchParams.set("error_description", "The user has denied your application access.");
    } else {
      const code = newSecret();
      codes.set(code, {
        provider,
        userKey: signedIn[provider],
        redirectUri,
        codeChallenge: params.get("code_challenge"),
      });
      back.searchParams.set("code", code);
    }
    return Response.redirect(back.toString(), 302);
  }

  function redeem(provider: Provider, body: Record<string, unknown>): Grant | null {
    const clientId = body.client_id ?? body.clientId;
    const clientSecret = body.client_secret ?? body.clientSecret;
    const grant = codes.get(String(body.code));
    codes.delete(String(body.code));
    if (clientId !== fakeClient.id || clientSecret !== fakeClient.secret) return null;
    if (!grant || grant.provider !== provider) return null;
    if (provider === "google" && body.redirect_uri !== grant.redirectUri) return null;
    // A code asked for with a PKCE challenge is redeemed only with its verifier.
    if (
      grant.codeChallenge &&
      challengeOf(String(body.code_verifier ?? "")) !== grant.codeChallenge
    ) {
      return null;
    }
    return grant;
  }

  /** A token request's parameters: a form body, or JSON (GitHub and Google take both). */
  async function tokenRequest(request: Request): Promise<Record<string, unknown>> {
    if (request.headers.get("content-type")?.includes("json")) {
      return (await request.json()) as Record<string, unknown>;
    }
    return Object.fromEntries(new URLSearchParams(await request.text()));
  }

  function bearer(request: Request, provider: Provider): Grant | null {
    const token = request.headers.get("authorization")?.replace(/^Bearer /i, "") ?? "";
    const grant = tokens.get(token);
    return grant?.provider === provider ? grant : null;
  }

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      // provider-routing.ts sends https://<host>/<path> here as /<host>/<path>.
      const url = new URL(request.url);
      const [, host = "", ...rest] = url.pathname.split("/");
      const path = `/${rest.join("/")}`;
      const endpoint = `${host}${path}`;
      calls.push(`${request.method} ${endpoint}`);
      const failure = broken(endpoint);
      if (failure) return failure;
      const inner = new URL(`https://${host}${path}${url.search}`);

      switch (`${request.method} ${endpoint}`) {
        case "GET github.com/login/oauth/authorize":
          return authorize("github", inner);
        case "POST github.com/login/oauth/access_token": {
          const grant = redeem("github", await tokenRequest(request));
          // GitHub answers a bad code with 200 and an error body.
          if (!grant) {
            return json({
              error: "bad_verification_code",
              error_description: "The code passed is incorrect or expired.",
            });
          }
          const token = `gho_${newSecret()}`;
          tokens.set(token, grant);
          return json({ access_token: token, token_type: "bearer", scope: "read:user,user:email" });
        }
        case "GET api.github.com/user": {
          const user = githubUsers.get(bearer(request, "github")?.userKey ?? "");
          if (!user) return json({ message: "Bad credentials" }, 401);
          const primary = user.emails.find((e) => e.primary);
          return json({
            id: user.id,
            login: user.login,
            name: user.name ?? null,
            avatar_url: `https://avatars.githubusercontent.com/u/${user.id}`,
            email: primary?.email ?? null,
          });
        }
        case "GET api.github.com/user/emails": {
          const user = githubUsers.get(bearer(request, "github")?.userKey ?? "");
          if (!user) return json({ message: "Bad credentials" }, 401);
          return json(user.emails.map((e) => ({ ...e, visibility: "private" })));
        }
        case "GET api.github.com/user/orgs": {
          const user = githubUsers.get(bearer(request, "github")?.userKey ?? "");
          if (!user) return json({ message: "Bad credentials" }, 401);
          return json((user.orgs ?? []).map((login) => ({ login })));
        }
        case "GET api.github.com/user/teams": {
          const user = githubUsers.get(bearer(request, "github")?.userKey ?? "");
          if (!user) return json({ message: "Bad credentials" }, 401);
          return json(
            (user.teams ?? []).map((t) => ({ slug: t.slug, organization: { login: t.org } })),
          );
        }
        case "GET accounts.google.com/o/oauth2/v2/auth":
          return authorize("google", inner);
        case "POST oauth2.googleapis.com/token": {
          const grant = redeem("google", await tokenRequest(request));
          if (!grant)
            return json({ error: "invalid_grant", error_description: "Bad Request" }, 400);
          const token = `ya29.${newSecret()}`;
          tokens.set(token, grant);
          return json({
            access_token: token,
            expires_in: 3599,
            refresh_token: `1//${newSecret()}`,
            scope: "openid https://www.googleapis.com/auth/userinfo.email",
            token_type: "Bearer",
          });
        }
        case "GET www.googleapis.com/oauth2/v2/userinfo": {
          const user = googleUsers.get(bearer(request, "google")?.userKey ?? "");
          if (!user) return json({ error: { code: 401, message: "Invalid Credentials" } }, 401);
          return json(user);
        }
        case "GET x.com/i/oauth2/authorize":
          return authorize("x", inner);
        case "POST api.twitter.com/2/oauth2/token": {
          // X takes the grant in a form body, the client in Basic auth, and checks PKCE.
          const params = new URLSearchParams(await request.text());
          const basic = `Basic ${btoa(`${fakeClient.id}:${fakeClient.secret}`)}`;
          const grant = codes.get(params.get("code") ?? "");
          codes.delete(params.get("code") ?? "");
          const challenge = challengeOf(params.get("code_verifier") ?? "");
          if (
            request.headers.get("authorization") !== basic ||
            grant?.provider !== "x" ||
            grant.redirectUri !== params.get("redirect_uri") ||
            grant.codeChallenge !== challenge
          ) {
            return json(
              {
                error: "invalid_request",
                error_description: "Value passed for the authorization code was invalid.",
              },
              400,
            );
          }
          const token = `x-${newSecret()}`;
          tokens.set(token, grant);
          return json({
            token_type: "bearer",
            expires_in: 7200,
            access_token: token,
            scope: "users.read tweet.read offline.access",
            refresh_token: `xr-${newSecret()}`,
          });
        }
        case "GET api.twitter.com/2/users/me": {
          const user = xUsers.get(bearer(request, "x")?.userKey ?? "");
          if (!user) return json({ title: "Unauthorized", status: 401 }, 401);
          return json({ data: user });
        }
        default:
          return json({ message: "Not Found" }, 404);
      }
    },
  });

  return {
    origin: `http://127.0.0.1:${server.port}`,
    calls,
    authorizeRequests,
    /** Adds a GitHub user and makes them the one signed in at github.com. */
    signInToGitHub(user: FakeGitHubUser) {
      githubUsers.set(String(user.id), user);
      signedIn.github = String(user.id);
    },
    signInToGoogle(user: FakeGoogleUser) {
      googleUsers.set(user.id, user);
      signedIn.google = user.id;
    },
    signInToX(user: FakeXUser) {
      xUsers.set(user.id, user);
      signedIn.x = user.id;
    },
    /** The person (or their organisation) revokes every token GitHub gave us for them: 401 from then on. */
    revokeGitHubTokens(user: FakeGitHubUser) {
      for (const [token, grant] of tokens) {
        if (grant.provider === "github" && grant.userKey === String(user.id)) tokens.delete(token);
      }
    },
    /** The person refuses consent on the provider's page. */
    denyConsent(provider: Provider, denied = true) {
      deny[provider] = denied;
    },
    /** `endpoint` as `host/path`, e.g. `github.com/login/oauth/access_token`. */
    breakNext(endpoint: string, kind: Breakage, times = 1) {
      breakages.set(endpoint, { kind, times });
    },
    reset() {
      breakages.clear();
      deny.github = false;
      deny.google = false;
      deny.x = false;
      calls.length = 0;
      authorizeRequests.length = 0;
    },
    close: () => server.stop(true),
  };
}

export type FakeSocialProviders = Awaited<ReturnType<typeof startFakeSocialProviders>>;
