import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import Provider from "oidc-provider";

// A real OpenID Connect issuer (the oidc-provider package) on 127.0.0.1 for
// the generic provider's tests. Its login and consent screens are replaced by
// a handler that signs in `signedInAs` and grants the requested scopes, so a
// cookie-jar client can walk the whole flow without filling in forms.

export type IssuerAccount = { sub: string; email: string; email_verified: boolean; name: string };

/** Registered without a token_endpoint_auth_method: client_secret_basic, as at most issuers. */
export const oidcClient = { id: "gatehouse-test", secret: "gatehouse-test-secret-0123456789" };
/** A public client: no secret, PKCE alone protects the code. */
export const oidcPublicClient = { id: "gatehouse-public" };
/** Registered for client_secret_post only. */
export const oidcPostClient = { id: "gatehouse-post", secret: "gatehouse-post-secret-0123456789" };

export async function startOidcIssuer(
  redirectUri: string,
  /** Put the scope's claims (email, name) in the ID token instead of userinfo only. */
  { claimsInIdToken = false } = {},
) {
  const accounts = new Map<string, IssuerAccount>();
  const state: { signedInAs: string; amr: string[] | undefined } = {
    signedInAs: "",
    amr: undefined,
  };
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: oidcClient.id,
        client_secret: oidcClient.secret,
        redirect_uris: [redirectUri],
        response_types: ["code"],
        grant_types: ["authorization_code"],
      },
      {
        client_id: oidcPublicClient.id,
        redirect_uris: [redirectUri],
        response_types: ["code"],
        grant_types: ["authorization_code"],
        token_endpoint_auth_method: "none",
      },
      {
        client_id: oidcPostClient.id,
        client_secret: oidcPostClient.secret,
        redirect_uris: [redirectUri],
        response_types: ["code"],
        grant_types: ["authorization_code"],
        token_endpoint_auth_method: "client_secret_post",
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: "test", alg: "RS256", use: "sig" }] },
    cookies: { keys: ["a-cookie-signing-key-for-tests-only"] },
    // `amr` (RFC 8176) with `openid`, as Entra ID, Okta or Auth0 put it in every ID token
    // whose sign-in set it (signInAs's `amr`).
    claims: { openid: ["sub", "amr"], email: ["email", "email_verified"], profile: ["name"] },
    features: { devInteractions: { enabled: false } },
    conformIdTokenClaims: !claimsInIdToken,
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      Grant: 3600,
      IdToken: 600,
      Interaction: 600,
      Session: 3600,
    },
    // Every authorization must carry PKCE (S256), so a flow without it fails.
    pkce: { required: () => true },
    findAccount: async (_ctx, sub) => {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ ...account }) };
    },
  });
  provider.on("server_error", (_ctx, error) => console.error("oidc-provider:", error));

  const callback = provider.callback();
  server.on("request", async (req, res) => {
    if (!req.url?.startsWith("/interaction/")) return callback(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === "login") {
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: state.signedInAs, ...(state.amr ? { amr: state.amr } : {}) } },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      const grant = new provider.Grant({
        accountId: details.session?.accountId ?? state.signedInAs,
        clientId: String(details.params.client_id),
      });
      grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      );
    } catch (error) {
      res.statusCode = 500;
      res.end(String(error));
    }
  });

  return {
    issuer,
    provider,
    /** `amr`: how the issuer says it authenticated the person (the ID token's `amr` claim). */
    signInAs(account: IssuerAccount, { amr }: { amr?: string[] } = {}) {
      accounts.set(account.sub, account);
      state.signedInAs = account.sub;
      state.amr = amr;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
