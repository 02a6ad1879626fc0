import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

export const oauthAccountRow = z.object({
  id: z.uuid(),
  user_id: z.uuid(),
  provider: z.string(),
  provider_user_id: z.string(),
  email: z.string().nullable(),
  email_verified: z.boolean(),
  /** Ciphertext (v2.<kid>.<iv>.<data>, bound to this row and column), never the provider's token itself. */
  access_token: z.string().nullable(),
  refresh_token: z.string().nullable(),
  token_type: z.string().nullable(),
  scope: z.string().nullable(),
  expires_at: z.date().nullable(),
  revoked_at: z.date().nullable(),
  /** GitHub organisation logins last read with the token (lower case); null: not read. */
  github_orgs: z.array(z.string()).nullable(),
  /** GitHub teams last read, as org/team-slug (lower case); null: not read. */
  github_teams: z.array(z.string()).nullable(),
  memberships_checked_at: z.date().nullable(),
  created_at: z.date(),
  updated_at: z.date(),
});
export type OAuthAccount = z.infer<typeof oauthAccountRow>;

const accountColumns = sql.fragment`
  id, user_id, provider, provider_user_id, email, email_verified, access_token, refresh_token,
  token_type, scope, expires_at, revoked_at, github_orgs, github_teams, memberships_checked_at,
  created_at, updated_at`;

export type NewOAuthAccount = {
  /** Chosen by the caller when there are tokens: their ciphertexts are bound to it. */
  id?: string;
  userId: string;
  provider: string;
  providerUserId: string;
  email: string | null;
  emailVerified: boolean;
  encryptedAccessToken: string | null;
  encryptedRefreshToken: string | null;
  tokenType: string | null;
  scope: string | null;
  expiresAt: Date | null;
  /** GitHub memberships read at this sign-in; undefined or null: not read. */
  githubOrgs?: readonly string[] | null;
  githubTeams?: readonly string[] | null;
};

const membershipArray = (values: readonly string[] | null | undefined) =>
  values ? sql.array([...values], "text") : null;

/** Memberships read now, or null when neither was read. */
const membershipsCheckedAt = (account: Pick<NewOAuthAccount, "githubOrgs" | "githubTeams">) =>
  account.githubOrgs || account.githubTeams ? sql.fragment`now()` : null;

const insertAccount = (account: NewOAuthAccount) => sql.fragment`
  INSERT INTO oauth_accounts (id, user_id, provider, provider_user_id, email, email_verified,
                              access_token, refresh_token, token_type, scope, expires_at,
                              github_orgs, github_teams, memberships_checked_at)
  VALUES (coalesce(${account.id ?? null}::uuid, gen_random_uuid()), ${account.userId}, ${account.provider}, ${account.providerUserId}, ${account.email},
          ${account.emailVerified}, ${account.encryptedAccessToken}, ${account.encryptedRefreshToken},
          ${account.tokenType}, ${account.scope},
          ${account.expiresAt ? sql.timestamp(account.expiresAt) : null},
          ${membershipArray(account.githubOrgs)}, ${membershipArray(account.githubTeams)},
          ${membershipsCheckedAt(account)})`;

export async function insertOAuthAccount(
  db: CommonQueryMethods,
  account: NewOAuthAccount,
): Promise<OAuthAccount> {
  return db.one(sql.type(oauthAccountRow)`
    ${insertAccount(account)}
    RETURNING ${accountColumns}`);
}

export async function findOAuthAccount(
  db: CommonQueryMethods,
  provider: string,
  providerUserId: string,
): Promise<OAuthAccount | null> {
  return db.maybeOne(sql.type(oauthAccountRow)`
    SELECT ${accountColumns} FROM oauth_accounts
    WHERE provider = ${provider} AND provider_user_id = ${providerUserId}`);
}

export const tokenKeyCountRow = z.object({ key_id: z.string(), tokens: z.number().int() });

/** How many stored tokens (access and refresh alike) each key id seals. */
export async function countTokensByKey(
  db: CommonQueryMethods,
): Promise<readonly z.infer<typeof tokenKeyCountRow>[]> {
  return db.any(sql.type(tokenKeyCountRow)`
    SELECT split_part(token, '.', 2) AS key_id, count(*)::int AS tokens
    FROM oauth_accounts, LATERAL (VALUES (access_token), (refresh_token)) AS t(token)
    WHERE token IS NOT NULL
    GROUP BY 1 ORDER BY 1`);
}

export const accountTokensRow = z.object({
  id: z.uuid(),
  access_token: z.string().nullable(),
  refresh_token: z.string().nullable(),
});
export type AccountTokens = z.infer<typeof accountTokensRow>;

/**
 * Accounts with a token not sealed as `<format>.<keyId>` (another key, or an
 * older format), in id order after `afterId`.
 */
export async function listAccountsNotUnderKey(
  db: CommonQueryMethods,
  format: string,
  keyId: string,
  afterId: string | null,
  limit: number,
): Promise<readonly AccountTokens[]> {
  const prefix = `${format}.${keyId}.`;
  return db.any(sql.type(accountTokensRow)`
    SELECT id, access_token, refresh_token FROM oauth_accounts
    WHERE (NOT starts_with(access_token, ${prefix}) OR NOT starts_with(refresh_token, ${prefix}))
      AND id > ${afterId ?? "00000000-0000-0000-0000-000000000000"}
    ORDER BY id LIMIT ${limit}`);
}

/**
 * Swaps in re-encrypted tokens only if the row still holds the ciphertexts
 * they were made from: a sign-in that stored fresh tokens meanwhile wins.
 */
export async function replaceAccountTokens(
  db: CommonQueryMethods,
  before: AccountTokens,
  after: { access_token: string | null; refresh_token: string | null },
): Promise<boolean> {
  const result = await db.query(sql.unsafe`
    UPDATE oauth_accounts SET access_token = ${after.access_token}, refresh_token = ${after.refresh_token}
    WHERE id = ${before.id}
      AND access_token IS NOT DISTINCT FROM ${before.access_token}
      AND refresh_token IS NOT DISTINCT FROM ${before.refresh_token}`);
  return result.rowCount === 1;
}

/** A linked account as its owner may see it: no provider tokens, not even ciphertext. */
export const linkedAccountRow = z.object({
  provider: z.string(),
  provider_user_id: z.string(),
  email: z.string().nullable(),
  email_verified: z.boolean(),
  scope: z.string().nullable(),
  created_at: z.date(),
  updated_at: z.date(),
});
export type LinkedAccount = z.infer<typeof linkedAccountRow>;

export async function listLinkedAccountsOfUser(
  db: CommonQueryMethods,
  userId: string,
): Promise<readonly LinkedAccount[]> {
  return db.any(sql.type(linkedAccountRow)`
    SELECT provider, provider_user_id, email, email_verified, scope, created_at, updated_at
    FROM oauth_accounts WHERE user_id = ${userId} ORDER BY created_at`);
}

export async function countOAuthAccountsOfUser(
  db: CommonQueryMethods,
  userId: string,
): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number() }))`
    SELECT count(*)::int AS count FROM oauth_accounts WHERE user_id = ${userId}`);
}

/** Unlinks one provider; the deferred sign-in-method trigger checks what is left at COMMIT. */
export async function deleteOAuthAccountOfUser(
  db: CommonQueryMethods,
  userId: string,
  provider: string,
): Promise<boolean> {
  const result = await db.query(sql.unsafe`
    DELETE FROM oauth_accounts WHERE user_id = ${userId} AND provider = ${provider}`);
  return result.rowCount === 1;
}

/**
 * Links an account unless (provider, provider_user_id) or (provider, user_id)
 * is already taken; null then. Concurrent first sign-ins of one identity are
 * settled here by the unique constraints: one insert wins, the others get null.
 */
export async function insertOAuthAccountIfAbsent(
  db: CommonQueryMethods,
  account: NewOAuthAccount,
): Promise<OAuthAccount | null> {
  return db.maybeOne(sql.type(oauthAccountRow)`
    ${insertAccount(account)}
    ON CONFLICT DO NOTHING
    RETURNING ${accountColumns}`);
}

export async function findOAuthAccountOfUser(
  db: CommonQueryMethods,
  userId: string,
  provider: string,
): Promise<OAuthAccount | null> {
  return db.maybeOne(sql.type(oauthAccountRow)`
    SELECT ${accountColumns} FROM oauth_accounts WHERE user_id = ${userId} AND provider = ${provider}`);
}

/**
 * What a repeated sign-in refreshes: the provider's email claim, fresh
 * tokens and the memberships read (what was not read is no longer known). A provider that sends no refresh token this time (Google sends one
 * only at first consent) leaves the stored one in place.
 */
export async function updateOAuthAccountAtSignIn(
  db: CommonQueryMethods,
  id: string,
  update: Omit<NewOAuthAccount, "id" | "userId" | "provider" | "providerUserId">,
): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE oauth_accounts SET
      email = ${update.email}, email_verified = ${update.emailVerified},
      access_token = ${update.encryptedAccessToken},
      refresh_token = coalesce(${update.encryptedRefreshToken}::text, refresh_token),
      token_type = ${update.tokenType}, scope = ${update.scope},
      expires_at = ${update.expiresAt ? sql.timestamp(update.expiresAt) : null},
      github_orgs = ${membershipArray(update.githubOrgs)},
      github_teams = ${membershipArray(update.githubTeams)},
      memberships_checked_at = ${membershipsCheckedAt(update)},
      revoked_at = NULL
    WHERE id = ${id}`);
}

/** Stores the memberships just read (null: not read) as of now. */
export async function recordGitHubMemberships(
  db: CommonQueryMethods,
  accountId: string,
  memberships: { orgs: readonly string[] | null; teams: readonly string[] | null },
): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE oauth_accounts SET github_orgs = ${membershipArray(memberships.orgs)},
      github_teams = ${membershipArray(memberships.teams)}, memberships_checked_at = now()
    WHERE id = ${accountId}`);
}

/** GitHub refused the stored token: it no longer speaks for the person, nor do the memberships read with it. */
export async function recordGitHubTokenRevoked(
  db: CommonQueryMethods,
  accountId: string,
): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE oauth_accounts SET revoked_at = now(), github_orgs = NULL, github_teams = NULL,
      memberships_checked_at = now()
    WHERE id = ${accountId}`);
}
