import { discordAuth } from "@hono/oauth-providers/discord";
import { facebookAuth } from "@hono/oauth-providers/facebook";
import { githubAuth } from "@hono/oauth-providers/github";
import { googleAuth } from "@hono/oauth-providers/google";
import { linkedinAuth } from "@hono/oauth-providers/linkedin";
import { msentraAuth } from "@hono/oauth-providers/msentra";
import { twitchAuth } from "@hono/oauth-providers/twitch";
import { xAuth } from "@hono/oauth-providers/x";
import { Context, type MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { z } from "zod";
import type { Config, OAuthProviderName } from "../config.ts";
import {
  callbackUrlOf,
  type FlowSecrets,
  type MembershipNeeds,
  ProviderFailure,
  type ProviderIdentity,
  providerLabels,
  type SignInProvider,
} from "./sign-in-providers.ts";

// @hono/oauth-providers as the protocol engine for the social providers. Its
// middlewares do login and callback on one URL, keep the state in a cookie of
// their own (named `state`, shared by every provider, `Secure` even on http)
// and restart the login when a callback carries no code (a denied consent).
// So we run a middleware on a private request instead of the browser's:
// begin gives it an empty request and keeps what it sets (the state, X's PKCE
// verifier) in our own flow cookie; finish gives it only `code` and `state`,
// plus the cookies it expects, rebuilt from that flow cookie after our own
// checks. The library still builds the authorize URL, exchanges the code and
// reads the profile; the browser never sees its cookies.

type Credentials = {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Microsoft only: MSENTRA_TENANT_ID. */
  tenantId: string;
};

type Profile = {
  providerUserId: string;
  email: string | null;
  emailVerified: boolean;
  fullName: string | null;
  avatarUrl: string | null;
};

type Definition = {
  middleware: (credentials: Credentials, needs: MembershipNeeds) => MiddlewareHandler;
  /** The context variable the middleware leaves the profile in. */
  userVariable: string;
  profile: (user: unknown) => Profile;
};

const text = z.string().nullish();

// Only an email that the provider says it verified ever links accounts or
// matches a rule. Where a provider makes no such statement (Facebook, X,
// Twitch, Discord's OAuth profile, Microsoft Graph's `mail`, which a tenant
// administrator can set to anything: the "nOAuth" takeover) it counts as
// unverified.
const definitions: Record<OAuthProviderName, Definition> = {
  github: {
    // GitHub scopes need `oauthApp`; the library then leaves redirect_uri out, begin adds it.
    middleware: (c, needs) =>
      githubAuth({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        oauthApp: true,
        scope:
          needs.githubOrgs || needs.githubTeams
            ? ["read:user", "user:email", "read:org"]
            : ["read:user", "user:email"],
        redirect_uri: c.redirectUri,
      }),
    userVariable: "user-github",
    // The email is read again from /user/emails below: the library takes the
    // primary address without looking at whether GitHub verified it.
    profile: (user) => {
      const u = z
        .object({
          id: z.union([z.number(), z.string().min(1)]),
          login: z.string(),
          name: text,
          avatar_url: text,
        })
        .parse(user);
      return profileOf(String(u.id), null, false, u.name ?? u.login, u.avatar_url);
    },
  },
  google: {
    middleware: (c) =>
      googleAuth({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        scope: ["openid", "email", "profile"],
        redirect_uri: c.redirectUri,
      }),
    userVariable: "user-google",
    profile: (user) => {
      const u = z
        .object({
          id: z.string(),
          email: text,
          // oauth2/v2/userinfo says verified_email; the OpenID userinfo says email_verified.
          verified_email: z.boolean().nullish(),
          email_verified: z.boolean().nullish(),
          name: text,
          picture: text,
        })
        .parse(user);
      const verified = (u.verified_email ?? u.email_verified) === true;
      return profileOf(u.id, u.email, verified, u.name, u.picture);
    },
  },
  discord: {
    middleware: (c) =>
      discordAuth({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        scope: ["identify", "email"],
        redirect_uri: c.redirectUri,
      }),
    userVariable: "user-discord",
    profile: (user) => {
      const u = z
        .object({
          id: z.string(),
          username: z.string(),
          global_name: text,
          avatar: text,
          email: text,
          verified: z.boolean().nullish(),
        })
        .parse(user);
      const avatar = u.avatar ? `https://cdn.discordapp.com/avatars/${u.id}/${u.avatar}.png` : null;
      return profileOf(u.id, u.email, u.verified === true, u.global_name ?? u.username, avatar);
    },
  },
  facebook: {
    middleware: (c) =>
      facebookAuth({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        scope: ["email", "public_profile"],
        fields: ["email", "id", "name", "picture"],
        redirect_uri: c.redirectUri,
      }),
    userVariable: "user-facebook",
    profile: (user) => {
      const u = z
        .object({
          id: z.string(),
          name: text,
          email: text,
          picture: z.object({ data: z.object({ url: text }) }).nullish(),
        })
        .parse(user);
      return profileOf(u.id, u.email, false, u.name, u.picture?.data.url);
    },
  },
  linkedin: {
    middleware: (c) =>
      linkedinAuth({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        scope: ["openid", "email", "profile"],
        redirect_uri: c.redirectUri,
      }),
    userVariable: "user-linkedin",
    profile: (user) => {
      const u = z
        .object({
          sub: z.string(),
          email: text,
          email_verified: z.boolean().nullish(),
          name: text,
          picture: text,
        })
        .parse(user);
      return profileOf(u.sub, u.email, u.email_verified === true, u.name, u.picture);
    },
  },
  x: {
    middleware: (c) =>
      xAuth({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        scope: ["users.read", "tweet.read", "offline.access"],
        fields: ["profile_image_url"],
        redirect_uri: c.redirectUri,
      }),
    userVariable: "user-x",
    profile: (user) => {
      const u = z
        .object({ id: z.string(), name: text, username: text, profile_image_url: text })
        .parse(user);
      return profileOf(u.id, null, false, u.name ?? u.username, u.profile_image_url);
    },
  },
  twitch: {
    middleware: (c) =>
      twitchAuth({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        scope: ["user:read:email"],
        redirect_uri: c.redirectUri,
      }),
    userVariable: "user-twitch",
    profile: (user) => {
      const u = z
        .object({
          id: z.string(),
          login: z.string(),
          display_name: text,
          email: text,
          profile_image_url: text,
        })
        .parse(user);
      return profileOf(u.id, u.email, false, u.display_name ?? u.login, u.profile_image_url);
    },
  },
  msentra: {
    middleware: (c) =>
      msentraAuth({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        tenant_id: c.tenantId,
        scope: ["openid", "email", "profile", "offline_access", "User.Read"],
        redirect_uri: c.redirectUri,
      }),
    userVariable: "user-msentra",
    profile: (user) => {
      const u = z
        .object({ id: z.string(), displayName: text, mail: text, userPrincipalName: text })
        .parse(user);
      return profileOf(u.id, u.mail, false, u.displayName, null);
    },
  },
};

const emailShape = /^[^@\s]+@[^@\s]+$/;

/** Keeps only what fits our columns: an email shape, a bounded name, an http(s) avatar. */
function profileOf(
  providerUserId: string,
  email: string | null | undefined,
  emailVerified: boolean,
  fullName: string | null | undefined,
  avatarUrl: string | null | undefined,
): Profile {
  const cleanEmail = email && email.length <= 254 && emailShape.test(email) ? email : null;
  return {
    providerUserId,
    email: cleanEmail,
    emailVerified: cleanEmail !== null && emailVerified,
    fullName: fullName?.trim().slice(0, 200) || null,
    avatarUrl:
      avatarUrl && avatarUrl.length <= 2048 && /^https?:\/\//.test(avatarUrl) ? avatarUrl : null,
  };
}

/** Runs a library middleware on a private request and returns the context it filled. */
async function runMiddleware(
  middleware: MiddlewareHandler,
  url: string,
  cookies: Record<string, string>,
): Promise<{ context: Context; response: Response | undefined; reachedNext: boolean }> {
  const cookie = Object.entries(cookies)
    .map(([name, value]) => `${name}=${value}`)
    .join("; ");
  const context = new Context(new Request(url, { headers: cookie ? { cookie } : {} }));
  let reachedNext = false;
  const response = await middleware(context, async () => {
    reachedNext = true;
  });
  return { context, response: response ?? undefined, reachedNext };
}

// The library's requests carry no timeout; a provider that never answers
// must not hold the browser (and a connection) forever.
const providerTimeoutMs = 15_000;

function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ProviderFailure("unavailable", "no answer within 15 s")),
      providerTimeoutMs,
    );
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

function cookieValue(setCookies: string[], name: string): string | undefined {
  for (const header of setCookies) {
    const [pair] = header.split(";");
    const eq = pair?.indexOf("=") ?? -1;
    if (pair && eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

const githubApi = "https://api.github.com";

/** A GitHub API read with the person's token; anything but a 2xx JSON answer is unusable. */
async function readGitHub(path: string, token: string): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`${githubApi}${path}`, {
      headers: {
        authorization: `Bearer ${token}`,
        accept: "application/vnd.github+json",
        "user-agent": "Gatehouse",
      },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new ProviderFailure("unavailable", `GitHub ${path}: ${String(error)}`);
  }
  if (!response.ok) {
    throw new ProviderFailure("unavailable", `GitHub ${path} answered ${response.status}`);
  }
  try {
    return await response.json();
  } catch {
    throw new ProviderFailure("unavailable", `GitHub ${path} answered something other than JSON`);
  }
}

// A missing flag counts as "no": an address is verified only when GitHub says so.
const githubEmails = z.array(
  z.object({
    email: z.string(),
    primary: z.boolean().optional(),
    verified: z.boolean().optional(),
  }),
);
const githubOrgs = z.array(z.object({ login: z.string() }));
const githubTeams = z.array(
  z.object({ slug: z.string(), organization: z.object({ login: z.string() }) }),
);

function parseGitHub<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ProviderFailure("unavailable", `GitHub ${what}: unexpected shape`);
  return parsed.data;
}

/**
 * The primary address, verified or not, and whether GitHub verified it; the
 * organisations and teams only when an allowlist rule asks about them (the
 * first 100 of each: one page, one request).
 */
async function gitHubExtras(token: string, needs: MembershipNeeds) {
  const emails = parseGitHub(githubEmails, await readGitHub("/user/emails", token), "emails");
  const primary = emails.find((e) => e.primary) ?? null;
  const orgs = needs.githubOrgs || needs.githubTeams;
  return {
    email: primary?.email ?? null,
    emailVerified: primary?.verified === true,
    githubOrgs: orgs
      ? parseGitHub(githubOrgs, await readGitHub("/user/orgs?per_page=100", token), "orgs").map(
          (o) => o.login.toLowerCase(),
        )
      : undefined,
    githubTeams: needs.githubTeams
      ? parseGitHub(githubTeams, await readGitHub("/user/teams?per_page=100", token), "teams").map(
          (t) => `${t.organization.login}/${t.slug}`.toLowerCase(),
        )
      : undefined,
  };
}

const tokenVariable = z.object({ token: z.string(), expires_in: z.number().nullish() }).nullish();

/** The provider built from its <NAME>_CLIENT_ID/_SECRET, or null when either is unset. */
export function socialProvider(name: OAuthProviderName, config: Config): SignInProvider | null {
  const upper = name.toUpperCase() as Uppercase<OAuthProviderName>;
  const clientId = config[`${upper}_CLIENT_ID`];
  const clientSecret = config[`${upper}_CLIENT_SECRET`];
  if (!clientId || !clientSecret) return null;
  const definition = definitions[name];
  const credentials = {
    clientId,
    clientSecret,
    redirectUri: callbackUrlOf(config, name),
    tenantId: config.MSENTRA_TENANT_ID,
  };

  return {
    name,
    label: providerLabels[name],

    begin: async (needs) => {
      const { response, context } = await runMiddleware(
        definition.middleware(credentials, needs),
        "https://gatehouse.internal/login",
        {},
      );
      const location = response?.headers.get("location");
      const setCookies = context.res.headers.getSetCookie();
      const state = cookieValue(setCookies, "state");
      if (!location || !state) throw new Error(`${name}: the library did not start a login`);
      const authorizationUrl = new URL(location);
      authorizationUrl.searchParams.set("redirect_uri", credentials.redirectUri);
      const secrets: FlowSecrets = { state };
      const codeVerifier = cookieValue(setCookies, "code-verifier");
      if (codeVerifier) secrets.codeVerifier = codeVerifier;
      return { authorizationUrl: authorizationUrl.toString(), secrets };
    },

    finish: async (callbackUrl, secrets, needs) => {
      // Only code and state reach the library: it would also take an
      // `access_token` from the query string as if the provider had issued it.
      const query = new URLSearchParams({
        code: callbackUrl.searchParams.get("code") ?? "",
        state: callbackUrl.searchParams.get("state") ?? "",
      });
      const cookies: Record<string, string> = { state: secrets.state };
      if (secrets.codeVerifier) cookies["code-verifier"] = secrets.codeVerifier;
      let context: Context;
      try {
        const run = await withTimeout(
          runMiddleware(
            definition.middleware(credentials, needs),
            `https://gatehouse.internal/callback?${query}`,
            cookies,
          ),
        );
        if (!run.reachedNext) throw new ProviderFailure("refused", "the library did not finish");
        context = run.context;
      } catch (error) {
        if (error instanceof ProviderFailure) throw error;
        // The library throws HTTPException(400) with the provider's own error
        // (a used code, a bad secret); anything else means it could not read
        // the answer at all (HTML from a 5xx, garbage, a network error).
        if (error instanceof HTTPException && error.status < 500) {
          throw new ProviderFailure("refused", error.message || `status ${error.status}`);
        }
        throw new ProviderFailure("unavailable", String(error));
      }
      const user = context.get(definition.userVariable as never) as unknown;
      const token = tokenVariable.safeParse(context.get("token" as never));
      if (!user || !token.success || !token.data) {
        throw new ProviderFailure("unavailable", "no profile or token in the provider's answer");
      }
      const refresh = tokenVariable.safeParse(context.get("refresh-token" as never));
      // Microsoft's refresh token rides inside the token variable.
      const refreshToken =
        (refresh.success ? refresh.data?.token : undefined) ??
        z.object({ refresh_token: z.string() }).safeParse(context.get("token" as never)).data
          ?.refresh_token ??
        null;
      const scopes = z
        .array(z.string())
        .nullish()
        .safeParse(context.get("granted-scopes" as never));
      let profile: Profile;
      try {
        profile = definition.profile(user);
      } catch {
        throw new ProviderFailure("unavailable", "the profile lacks an id or has an odd shape");
      }
      const identity: ProviderIdentity = {
        provider: name,
        ...profile,
        tokens: {
          accessToken: token.data.token,
          refreshToken,
          tokenType: "bearer",
          scope: scopes.success && scopes.data ? scopes.data.join(" ") : null,
          expiresAt: token.data.expires_in
            ? new Date(Date.now() + token.data.expires_in * 1000)
            : null,
        },
      };
      if (name === "github") {
        const extras = await gitHubExtras(token.data.token, needs);
        const checked = profileOf(
          profile.providerUserId,
          extras.email,
          extras.emailVerified,
          "",
          "",
        );
        identity.email = checked.email;
        identity.emailVerified = checked.emailVerified;
        if (extras.githubOrgs) identity.githubOrgs = extras.githubOrgs;
        if (extras.githubTeams) identity.githubTeams = extras.githubTeams;
      }
      return identity;
    },
  };
}
