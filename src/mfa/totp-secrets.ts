import type { TokenBinding, TokenCipher } from "../keys/token-encryption.ts";

// A TOTP secret at rest: sealed with the provider-token cipher (same keys,
// same rotation) and bound to its own row, so a ciphertext copied into
// another user's row does not open there.

export const totpSecretBinding = (userId: string): TokenBinding => ({
  table: "mfa_totp",
  row: userId,
  column: "secret",
});

export const sealTotpSecret = (cipher: TokenCipher, userId: string, secret: string) =>
  cipher.encrypt(secret, totpSecretBinding(userId));

export const openTotpSecret = (cipher: TokenCipher, userId: string, sealed: string) =>
  cipher.decrypt(sealed, totpSecretBinding(userId));
