import { z } from "zod";
import { readProviderJson } from "./oauth2-code-flow.ts";
import { type Profile, profileOf } from "./profile.ts";
import {
  type MembershipNeeds,
  ProviderFailure,
  type ProviderIdentity,
} from "./sign-in-providers.ts";

// What GitHub's /user does not say: whether the primary email is verified
// (GitHub's /user shows the primary address without saying), and, only when
// an allowlist rule asks about them, the person's organisations and teams
// (the first 100 of each: one page, one request), at sign-in and again on
// the re-check schedule (src/gate/github-recheck.ts).

const githubApi = "https://api.github.com";

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

async function readGitHub<T>(schema: z.ZodType<T>, path: string, token: string): Promise<T> {
  const body = await readProviderJson(`GitHub ${path}`, `${githubApi}${path}`, {
    headers: { authorization: `Bearer ${token}`, accept: "application/vnd.github+json" },
  });
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ProviderFailure("unavailable", `GitHub ${path}: unexpected shape`);
  return parsed.data;
}

/** The identity with GitHub's verified primary email and, where needed, its memberships. */
export async function withGitHubEmailAndMemberships(
  identity: ProviderIdentity,
  needs: MembershipNeeds,
): Promise<ProviderIdentity> {
  const token = identity.tokens.accessToken ?? "";
  const emails = await readGitHub(githubEmails, "/user/emails", token);
  const primary = emails.find((e) => e.primary) ?? null;
  const checked: Profile = profileOf(
    identity.providerUserId,
    primary?.email,
    primary?.verified === true,
    "",
    "",
  );
  const enriched: ProviderIdentity = {
    ...identity,
    email: checked.email,
    emailVerified: checked.emailVerified,
  };
  if (needs.githubOrgs || needs.githubTeams) {
    const orgs = await readGitHub(githubOrgs, "/user/orgs?per_page=100", token);
    enriched.githubOrgs = orgs.map((o) => o.login.toLowerCase());
  }
  if (needs.githubTeams) {
    const teams = await readGitHub(githubTeams, "/user/teams?per_page=100", token);
    enriched.githubTeams = teams.map((t) => `${t.organization.login}/${t.slug}`.toLowerCase());
  }
  return enriched;
}

/**
 * What GitHub says of a stored token's memberships, for the scheduled
 * re-check. Only a definite answer counts: the lists (200), or the token is
 * no longer good (401). Anything else (no answer, a timeout, a 5xx, a rate
 * limit's 403, garbage) is `no_answer`, and nobody loses access over it.
 */
export type MembershipAnswer =
  | { kind: "members"; orgs: string[] | null; teams: string[] | null }
  | { kind: "token_revoked" }
  | { kind: "no_answer"; detail: string };

class NoAnswer extends Error {}
class TokenRevoked extends Error {}

async function askGitHub<T>(
  schema: z.ZodType<T>,
  path: string,
  token: string,
  stop: AbortSignal | undefined,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${githubApi}${path}`, {
      headers: {
        authorization: `Bearer ${token}`,
        accept: "application/vnd.github+json",
        "user-agent": "Gatehouse",
      },
      signal: stop
        ? AbortSignal.any([stop, AbortSignal.timeout(10_000)])
        : AbortSignal.timeout(10_000),
    });
  } catch (error) {
    throw new NoAnswer(`GitHub ${path}: ${(error as Error).name}`);
  }
  if (response.status === 401) throw new TokenRevoked();
  const body = response.ok ? await response.json().catch(() => undefined) : undefined;
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new NoAnswer(`GitHub ${path} answered ${response.status}`);
  return parsed.data;
}

/** `stop`: the server is shutting down; an aborted request is no answer. */
export async function readGitHubMemberships(
  token: string,
  needs: MembershipNeeds,
  stop?: AbortSignal,
): Promise<MembershipAnswer> {
  try {
    const orgs = needs.githubOrgs
      ? (await askGitHub(githubOrgs, "/user/orgs?per_page=100", token, stop)).map((o) =>
          o.login.toLowerCase(),
        )
      : null;
    const teams = needs.githubTeams
      ? (await askGitHub(githubTeams, "/user/teams?per_page=100", token, stop)).map((t) =>
          `${t.organization.login}/${t.slug}`.toLowerCase(),
        )
      : null;
    return { kind: "members", orgs, teams };
  } catch (error) {
    if (error instanceof TokenRevoked) return { kind: "token_revoked" };
    if (error instanceof NoAnswer) return { kind: "no_answer", detail: error.message };
    throw error;
  }
}
