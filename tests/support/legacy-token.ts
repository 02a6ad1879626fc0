/**
 * A ciphertext as Gatehouse wrote it before tokens were bound to their row:
 * `v1.<kid>.<iv>.<sealed>`, with only `v1.<kid>` as additional data.
 */
export async function legacyV1Ciphertext(
  keyId: string,
  key: Uint8Array<ArrayBuffer>,
  plaintext: string,
): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const cryptoKey = await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt"]);
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(`v1.${keyId}`) },
    cryptoKey,
    new TextEncoder().encode(plaintext),
  );
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
  return `v1.${keyId}.${b64(iv)}.${b64(new Uint8Array(sealed))}`;
}
