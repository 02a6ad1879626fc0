import { describe, expect, test } from "bun:test";
import {
  createTokenCipher,
  keyIdOf,
  type TokenBinding,
  UnknownEncryptionKey,
} from "../src/keys/token-encryption.ts";
import { legacyV1Ciphertext } from "./support/legacy-token.ts";

const key = (fill: number) => new Uint8Array(32).fill(fill);
const row = (id: string, column = "access_token"): TokenBinding => ({
  table: "oauth_accounts",
  row: id,
  column,
});
const here = row("3f1e2d3c-0000-4000-8000-000000000001");

describe("provider token encryption", () => {
  test("a token round-trips and its ciphertext names the key and hides the token", async () => {
    const cipher = await createTokenCipher([{ id: "k1", key: key(1) }]);
    const sealed = await cipher.encrypt("gho_secret_token", here);
    expect(sealed).toMatch(/^v2\.k1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain("gho_secret_token");
    expect(keyIdOf(sealed)).toBe("k1");
    expect(await cipher.decrypt(sealed, here)).toBe("gho_secret_token");
  });

  test("the same token encrypts differently each time (random IV)", async () => {
    const cipher = await createTokenCipher([{ id: "k1", key: key(1) }]);
    expect(await cipher.encrypt("t", here)).not.toBe(await cipher.encrypt("t", here));
  });

  test("after rotation the new key encrypts and the retired key still decrypts", async () => {
    const before = await createTokenCipher([{ id: "old", key: key(1) }]);
    const sealedBefore = await before.encrypt("refresh-me", here);
    const after = await createTokenCipher([
      { id: "new", key: key(2) },
      { id: "old", key: key(1) },
    ]);
    expect(keyIdOf(await after.encrypt("x", here))).toBe("new");
    expect(await after.decrypt(sealedBefore, here)).toBe("refresh-me");
  });

  test("a ciphertext under an unconfigured key is refused by name", async () => {
    const a = await createTokenCipher([{ id: "a", key: key(1) }]);
    const b = await createTokenCipher([{ id: "b", key: key(2) }]);
    expect(b.decrypt(await a.encrypt("t", here), here)).rejects.toBeInstanceOf(
      UnknownEncryptionKey,
    );
  });

  test("a tampered ciphertext or a relabelled key id fails to open", async () => {
    const cipher = await createTokenCipher([
      { id: "k1", key: key(1) },
      { id: "k2", key: key(1) },
    ]);
    const sealed = await cipher.encrypt("token", here);
    const parts = sealed.split(".");
    const flipped = Buffer.from(parts[3] ?? "", "base64url");
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(
      cipher.decrypt([parts[0], parts[1], parts[2], flipped.toString("base64url")].join("."), here),
    ).rejects.toThrow();
    expect(cipher.decrypt(["v2", "k2", parts[2], parts[3]].join("."), here)).rejects.toThrow();
  });

  test("a ciphertext opens only in the row and column it was sealed for", async () => {
    const cipher = await createTokenCipher([{ id: "k1", key: key(1) }]);
    const sealed = await cipher.encrypt("token", here);
    expect(cipher.decrypt(sealed, row("3f1e2d3c-0000-4000-8000-000000000002"))).rejects.toThrow();
    expect(cipher.decrypt(sealed, row(here.row, "refresh_token"))).rejects.toThrow();
    expect(cipher.decrypt(sealed, { ...here, table: "users" })).rejects.toThrow();
  });

  test("a ciphertext relabelled as the unbound v1 format fails to open", async () => {
    const cipher = await createTokenCipher([{ id: "k1", key: key(1) }]);
    const [, ...rest] = (await cipher.encrypt("token", here)).split(".");
    expect(cipher.decrypt(["v1", ...rest].join("."), here)).rejects.toThrow();
  });

  test("a token written before row binding (v1) still opens", async () => {
    const cipher = await createTokenCipher([{ id: "k1", key: key(1) }]);
    const legacy = await legacyV1Ciphertext("k1", key(1), "old-token");
    expect(keyIdOf(legacy)).toBe("k1");
    expect(await cipher.decrypt(legacy, here)).toBe("old-token");
  });
});
