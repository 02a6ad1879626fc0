import type { TokenBinding, TokenCipher } from "../keys/token-encryption.ts";
import type { Logger } from "../logger.ts";

// A linked account's provider tokens, sealed for and opened from their own
// row and column of oauth_accounts: a ciphertext moved elsewhere does not open.

export type AccountTokenColumn = "access_token" | "refresh_token";

export const bindingOf = (accountId: string, column: AccountTokenColumn): TokenBinding => ({
  table: "oauth_accounts",
  row: accountId,
  column,
});

export type SealedAccountTokens = {
  encryptedAccessToken: string | null;
  encryptedRefreshToken: string | null;
};

export async function sealAccountTokens(
  cipher: TokenCipher,
  accountId: string,
  tokens: { accessToken: string | null; refreshToken: string | null },
): Promise<SealedAccountTokens> {
  const seal = (token: string | null, column: AccountTokenColumn) =>
    token === null ? null : cipher.encrypt(token, bindingOf(accountId, column));
  return {
    encryptedAccessToken: await seal(tokens.accessToken, "access_token"),
    encryptedRefreshToken: await seal(tokens.refreshToken, "refresh_token"),
  };
}

/**
 * The account's tokens in clear. A ciphertext that does not open here (copied
 * from another row or column, tampered with, or under a key no longer
 * configured) counts as absent, the same as a provider that never sent one:
 * the caller asks the user to sign in with the provider again.
 */
export async function openAccountTokens(
  cipher: TokenCipher,
  account: { id: string; access_token: string | null; refresh_token: string | null },
  logger: Logger,
): Promise<{ accessToken: string | null; refreshToken: string | null }> {
  const open = async (column: AccountTokenColumn) => {
    const sealed = account[column];
    if (sealed === null) return null;
    try {
      return await cipher.decrypt(sealed, bindingOf(account.id, column));
    } catch (error) {
      logger.warn(
        { account_id: account.id, column, reason: (error as Error).name },
        "a stored provider token does not open for its row; treating it as absent",
      );
      return null;
    }
  };
  return { accessToken: await open("access_token"), refreshToken: await open("refresh_token") };
}
