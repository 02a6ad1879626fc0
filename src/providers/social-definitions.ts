import { z } from "zod";
import type { OAuthProviderName } from "../config/index.ts";
import { withGitHubEmailAndMemberships } from "./github-account.ts";
import type { CodeFlowEndpoints } from "./oauth2-code-flow.ts";
import { type Profile, profileOf } from "./profile.ts";
import type { MembershipNeeds, ProviderIdentity } from "./sign-in-providers.ts";

// What differs between the social providers, and nothing else: endpoints,
// scopes, whether the code exchange takes PKCE, and how to read the profile.
// The flow itself is oauth2-code-flow.ts.
//
// PKCE where the provider documents it for web applications (GitHub, Google,
// X, Microsoft); the others rely on the state and the client secret.
//
// Only an email that the provider says it verified ever links accounts or
// matches a rule. Where a provider makes no such statement (Facebook, X,
// Twitch, Discord's OAuth profile, Microsoft Graph's `mail`, which a tenant
// administrator can set to anything: the "nOAuth" takeover) it counts as
// unverified.

export type SocialDefinition = {
  endpoints: (settings: { msentraTenantId: string }) => CodeFlowEndpoints & { profileUrl: string };
  scopes: (needs: MembershipNeeds) => string[];
  /** Authorization request parameters beyond the standard ones. */
  authorizeParams?: Record<string, string>;
  profileHeaders?: (clientId: string) => Record<string, string>;
  /** Throws when the answer lacks an id or has an odd shape. */
  profile: (answer: unknown) => Profile;
  /** Reads what the profile does not say (GitHub's verified email and memberships). */
  complete?: (identity: ProviderIdentity, needs: MembershipNeeds) => Promise<ProviderIdentity>;
};

const text = z.string().nullish();

export const socialDefinitions: Record<OAuthProviderName, SocialDefinition> = {
  github: {
    endpoints: () => ({
      authorizeUrl: "https://github.com/login/oauth/authorize",
      tokenUrl: "https://github.com/login/oauth/access_token",
      clientAuth: "body",
      pkce: true,
      profileUrl: "https://api.github.com/user",
    }),
    scopes: (needs) =>
      needs.githubOrgs || needs.githubTeams
        ? ["read:user", "user:email", "read:org"]
        : ["read:user", "user:email"],
    profileHeaders: () => ({ accept: "application/vnd.github+json" }),
    // The email comes from /user/emails with its verified flag (complete).
    profile: (answer) => {
      const u = z
        .object({
          id: z.union([z.number(), z.string().min(1)]),
          login: z.string(),
          name: text,
          avatar_url: text,
        })
        .parse(answer);
      return profileOf(String(u.id), null, false, u.name ?? u.login, u.avatar_url);
    },
    complete: withGitHubEmailAndMemberships,
  },
  google: {
    endpoints: () => ({
      authorizeUrl: "https://accounts.google.com/o/oauth2/v2/auth",
      tokenUrl: "https://oauth2.googleapis.com/token",
      clientAuth: "body",
      pkce: true,
      profileUrl: "https://www.googleapis.com/oauth2/v2/userinfo",
    }),
    scopes: () => ["openid", "email", "profile"],
    authorizeParams: { include_granted_scopes: "true" },
    profile: (answer) => {
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
        .parse(answer);
      const verified = (u.verified_email ?? u.email_verified) === true;
      return profileOf(u.id, u.email, verified, u.name, u.picture);
    },
  },
  discord: {
    endpoints: () => ({
      authorizeUrl: "https://discord.com/oauth2/authorize",
      tokenUrl: "https://discord.com/api/oauth2/token",
      clientAuth: "body",
      pkce: false,
      profileUrl: "https://discord.com/api/oauth2/@me",
    }),
    scopes: () => ["identify", "email"],
    authorizeParams: { prompt: "consent" },
    profile: (answer) => {
      const { user: u } = z
        .object({
          user: z.object({
            id: z.string(),
            username: z.string(),
            global_name: text,
            avatar: text,
            email: text,
            verified: z.boolean().nullish(),
          }),
        })
        .parse(answer);
      const avatar = u.avatar ? `https://cdn.discordapp.com/avatars/${u.id}/${u.avatar}.png` : null;
      return profileOf(u.id, u.email, u.verified === true, u.global_name ?? u.username, avatar);
    },
  },
  facebook: {
    endpoints: () => ({
      authorizeUrl: "https://www.facebook.com/v18.0/dialog/oauth",
      tokenUrl: "https://graph.facebook.com/v18.0/oauth/access_token",
      clientAuth: "body",
      tokenMethod: "GET",
      pkce: false,
      profileUrl: "https://graph.facebook.com/v18.0/me?fields=id,name,email,picture",
    }),
    scopes: () => ["email", "public_profile"],
    profile: (answer) => {
      const u = z
        .object({
          id: z.string(),
          name: text,
          email: text,
          picture: z.object({ data: z.object({ url: text }) }).nullish(),
        })
        .parse(answer);
      return profileOf(u.id, u.email, false, u.name, u.picture?.data.url);
    },
  },
  linkedin: {
    endpoints: () => ({
      authorizeUrl: "https://www.linkedin.com/oauth/v2/authorization",
      tokenUrl: "https://www.linkedin.com/oauth/v2/accessToken",
      clientAuth: "body",
      pkce: false,
      profileUrl: "https://api.linkedin.com/v2/userinfo",
    }),
    scopes: () => ["openid", "email", "profile"],
    profile: (answer) => {
      const u = z
        .object({
          sub: z.string(),
          email: text,
          email_verified: z.boolean().nullish(),
          name: text,
          picture: text,
        })
        .parse(answer);
      return profileOf(u.sub, u.email, u.email_verified === true, u.name, u.picture);
    },
  },
  x: {
    endpoints: () => ({
      authorizeUrl: "https://x.com/i/oauth2/authorize",
      tokenUrl: "https://api.twitter.com/2/oauth2/token",
      clientAuth: "basic",
      pkce: true,
      profileUrl: "https://api.twitter.com/2/users/me?user.fields=profile_image_url",
    }),
    scopes: () => ["users.read", "tweet.read", "offline.access"],
    profile: (answer) => {
      const { data: u } = z
        .object({
          data: z.object({ id: z.string(), name: text, username: text, profile_image_url: text }),
        })
        .parse(answer);
      return profileOf(u.id, null, false, u.name ?? u.username, u.profile_image_url);
    },
  },
  twitch: {
    endpoints: () => ({
      authorizeUrl: "https://id.twitch.tv/oauth2/authorize",
      tokenUrl: "https://id.twitch.tv/oauth2/token",
      clientAuth: "body",
      pkce: false,
      profileUrl: "https://api.twitch.tv/helix/users",
    }),
    scopes: () => ["user:read:email"],
    profileHeaders: (clientId) => ({ "client-id": clientId }),
    profile: (answer) => {
      const {
        data: [u],
      } = z
        .object({
          data: z.tuple(
            [
              z.object({
                id: z.string(),
                login: z.string(),
                display_name: text,
                email: text,
                profile_image_url: text,
              }),
            ],
            z.unknown(),
          ),
        })
        .parse(answer);
      return profileOf(u.id, u.email, false, u.display_name ?? u.login, u.profile_image_url);
    },
  },
  msentra: {
    endpoints: ({ msentraTenantId }) => {
      const tenant = `https://login.microsoftonline.com/${encodeURIComponent(msentraTenantId)}`;
      return {
        authorizeUrl: `${tenant}/oauth2/v2.0/authorize`,
        tokenUrl: `${tenant}/oauth2/v2.0/token`,
        clientAuth: "body",
        pkce: true,
        profileUrl: "https://graph.microsoft.com/v1.0/me",
      };
    },
    scopes: () => ["openid", "email", "profile", "offline_access", "User.Read"],
    profile: (answer) => {
      const u = z
        .object({ id: z.string(), displayName: text, mail: text, userPrincipalName: text })
        .parse(answer);
      return profileOf(u.id, u.mail, false, u.displayName, null);
    },
  },
};
