import { describe, expect, test } from "bun:test";
import { createTokenCipher, keyIdOf, UnknownEncryptionKey } from "../src/auth/token-encryption.ts";

const key = (fill: number) => new Uint8Array(32).fill(fill);

describe("provider token encryption", () => {
  test("a token round-trips and its ciphertext names the key and hides the token", async () => {
    const cipher = await createTokenCipher([{ id: "k1", key: key(1) }]);
    const sealed = await cipher.encrypt("gho_secret_token");
    expect(sealed).toMatch(/^v1\.k1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain("gho_secret_token");
    expect(keyIdOf(sealed)).toBe("k1");
    expect(await cipher.decrypt(sealed)).toBe("gho_secret_token");
  });

  test("the same token encrypts differently each time (random IV)", async () => {
    const cipher = await createTokenCipher([{ id: "k1", key: key(1) }]);
    expect(await cipher.encrypt("t")).not.toBe(await cipher.encrypt("t"));
  });

  test("after rotation the new key encrypts and the retired key still decrypts", async () => {
    const before = await createTokenCipher([{ id: "old", key: key(1) }]);
    const sealedBefore = await before.encrypt("refresh-me");
    const after = await createTokenCipher([
      { id: "new", key: key(2) },
      { id: "old", key: key(1) },
    ]);
    expect(keyIdOf(await after.encrypt("x"))).toBe("new");
    expect(await after.decrypt(sealedBefore)).toBe("refresh-me");
  });

  test("a ciphertext under an unconfigured key is refused by name", async () => {
    const a = await createTokenCipher([{ id: "a", key: key(1) }]);
    const b = await createTokenCipher([{ id: "b", key: key(2) }]);
    expect(b.decrypt(await a.encrypt("t"))).rejects.toBeInstanceOf(UnknownEncryptionKey);
  });

  test("a tampered ciphertext or a relabelled key id fails to open", async () => {
    const cipher = await createTokenCipher([
      { id: "k1", key: key(1) },
      { id: "k2", key: key(1) },
    ]);
    const sealed = await cipher.encrypt("token");
    const parts = sealed.split(".");
    const flipped = Buffer.from(parts[3] ?? "", "base64url");
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(
      cipher.decrypt([parts[0], parts[1], parts[2], flipped.toString("base64url")].join(".")),
    ).rejects.toThrow();
    expect(cipher.decrypt(["v1", "k2", parts[2], parts[3]].join("."))).rejects.toThrow();
  });
});
