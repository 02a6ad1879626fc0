import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";

export const oauthAccountRow = z.object({
  id: z.uuid(),
  user_id: z.uuid(),
  provider: z.string(),
  provider_user_id: z.string(),
  email: z.string().nullable(),
  email_verified: z.boolean(),
  /** Ciphertext (v1.<kid>.<iv>.<data>), never the provider's token itself. */
  access_token: z.string().nullable(),
  refresh_token: z.string().nullable(),
  token_type: z.string().nullable(),
  scope: z.string().nullable(),
  expires_at: z.date().nullable(),
  revoked_at: z.date().nullable(),
  created_at: z.date(),
  updated_at: z.date(),
});
export type OAuthAccount = z.infer<typeof oauthAccountRow>;

const accountColumns = sql.fragment`
  id, user_id, provider, provider_user_id, email, email_verified, access_token, refresh_token,
  token_type, scope, expires_at, revoked_at, created_at, updated_at`;

export type NewOAuthAccount = {
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
};

export async function insertOAuthAccount(
  db: CommonQueryMethods,
  account: NewOAuthAccount,
): Promise<OAuthAccount> {
  return db.one(sql.type(oauthAccountRow)`
    INSERT INTO oauth_accounts (user_id, provider, provider_user_id, email, email_verified,
                                access_token, refresh_token, token_type, scope, expires_at)
    VALUES (${account.userId}, ${account.provider}, ${account.providerUserId}, ${account.email},
            ${account.emailVerified}, ${account.encryptedAccessToken}, ${account.encryptedRefreshToken},
            ${account.tokenType}, ${account.scope},
            ${account.expiresAt ? sql.timestamp(account.expiresAt) : null})
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

export async function listOAuthAccountsOfUser(
  db: CommonQueryMethods,
  userId: string,
): Promise<readonly OAuthAccount[]> {
  return db.any(sql.type(oauthAccountRow)`
    SELECT ${accountColumns} FROM oauth_accounts WHERE user_id = ${userId} ORDER BY created_at`);
}
