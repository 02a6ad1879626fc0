import { createHash, randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

// A minimal OpenID Connect issuer for the OAuth callback scenario: discovery,
// JWKS, an authorize endpoint that consents at once, and a token endpoint
// that checks the PKCE verifier and returns an RS256 ID token with the
// nonce. Gatehouse in production only talks to https issuers, so it serves
// TLS with a throw-away self-signed certificate (openssl) that the
// Gatehouse process trusts through NODE_EXTRA_CA_CERTS.

export type OidcIssuer = {
  url: string;
  /** The certificate file Gatehouse must trust, and its PEM text (for the bench's own requests). */
  caFile: string;
  ca: string;
  stop: () => void;
};

type Grant = { redirectUri: string; nonce: string; challenge: string; clientId: string };

async function selfSignedCertificate(): Promise<{ certFile: string; keyFile: string }> {
  const dir = await mkdtemp(join(tmpdir(), "gatehouse-bench-tls-"));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  const openssl = Bun.spawn(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  if ((await openssl.exited) !== 0) throw new Error("openssl could not make a certificate");
  return { certFile, keyFile };
}

export async function startOidcIssuer(subject: {
  sub: string;
  email: string;
}): Promise<OidcIssuer> {
  const { certFile, keyFile } = await selfSignedCertificate();
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "bench", alg: "RS256", use: "sig" };
  const grants = new Map<string, Grant>();
  let issuer = "";

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: Bun.file(certFile), key: Bun.file(keyFile) },
    fetch: async (request) => {
      const url = new URL(request.url);
      if (url.pathname === "/.well-known/openid-configuration") {
        return Response.json({
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ["code"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: ["RS256"],
          code_challenge_methods_supported: ["S256"],
          token_endpoint_auth_methods_supported: ["client_secret_post"],
        });
      }
      if (url.pathname === "/jwks") return Response.json({ keys: [jwk] });
      if (url.pathname === "/authorize") {
        const q = url.searchParams;
        const code = randomBytes(24).toString("base64url");
        grants.set(code, {
          redirectUri: q.get("redirect_uri") ?? "",
          nonce: q.get("nonce") ?? "",
          challenge: q.get("code_challenge") ?? "",
          clientId: q.get("client_id") ?? "",
        });
        const back = new URL(q.get("redirect_uri") ?? "");
        back.searchParams.set("code", code);
        back.searchParams.set("state", q.get("state") ?? "");
        back.searchParams.set("iss", issuer);
        return Response.redirect(back.toString(), 302);
      }
      if (url.pathname === "/token" && request.method === "POST") {
        const form = new URLSearchParams(await request.text());
        const code = form.get("code") ?? "";
        const grant = grants.get(code);
        grants.delete(code);
        const verifier = form.get("code_verifier") ?? "";
        const challenge = createHash("sha256").update(verifier).digest("base64url");
        if (
          !grant ||
          grant.challenge !== challenge ||
          grant.redirectUri !== form.get("redirect_uri")
        ) {
          return Response.json({ error: "invalid_grant" }, { status: 400 });
        }
        const idToken = await new SignJWT({
          nonce: grant.nonce,
          email: subject.email,
          email_verified: true,
          name: "Bench OIDC User",
        })
          .setProtectedHeader({ alg: "RS256", kid: "bench" })
          .setIssuer(issuer)
          .setAudience(grant.clientId)
          .setSubject(subject.sub)
          .setIssuedAt()
          .setExpirationTime("5m")
          .sign(privateKey);
        return Response.json({
          access_token: randomBytes(24).toString("base64url"),
          token_type: "Bearer",
          expires_in: 300,
          id_token: idToken,
        });
      }
      return new Response("not found", { status: 404 });
    },
  });
  issuer = `https://127.0.0.1:${server.port}`;
  return {
    url: issuer,
    caFile: certFile,
    ca: await Bun.file(certFile).text(),
    stop: () => server.stop(true),
  };
}
