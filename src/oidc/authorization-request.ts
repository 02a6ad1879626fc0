import type { DatabasePool } from "slonik";
import { isPrintableText } from "../text-input.ts";
import type { AcrRequest } from "./acr.ts";
import { readClaimsParameter } from "./claims-request.ts";
import { findClient, type OAuthClient } from "./clients.ts";
import { grantedScopes, type Scope } from "./scopes.ts";

// Reading an authorization request (OpenID Connect Core §3.1.2.1): the
// client and its redirect URI, then every parameter, into a request to
// decide (authorization-decision.ts) or a refusal.

/**
 * Added to the authorization request we resume after a sign-in that
 * `prompt=login` or `max_age` demanded (milliseconds since the epoch of the redirect): the
 * session must have been authenticated since, and only for a while. It can
 * only make a request stricter than one without prompt=login.
 */
export const loginAfterParam = "gatehouse_login_after";

const promptValues = new Set(["none", "login", "consent", "select_account"]);

export type AuthorizationRequest = {
  client: OAuthClient;
  redirectUri: string;
  state: string | null;
  scopes: Scope[];
  nonce: string | null;
  codeChallenge: string | null;
  prompt: ReadonlySet<string>;
  maxAgeSeconds: number | null;
  loginAfter: number | null;
  /** The acr asked for (acr_values, or the claims parameter's), and where it is to be reported. */
  acr: (AcrRequest & { inIdToken: boolean; atUserinfo: boolean }) | null;
};

/** Nowhere safe to send the browser (unknown client, unregistered redirect URI): an error page. */
export type Unredirectable = { kind: "unredirectable"; detail: string };
/** An RFC 6749 §4.1.2.1 error, answered at the client's registered redirect URI. */
export type Refusal = { kind: "refused"; error: string; description: string };
export type ReadRequest =
  | Unredirectable
  | (Refusal & { redirectUri: string; state: string | null })
  | { kind: "valid"; request: AuthorizationRequest };

export const refuse = (error: string, description: string): Refusal => ({
  kind: "refused",
  error,
  description,
});

/**
 * Reads an authorization request. The client and its exact redirect URI are
 * settled first: until they are, nothing is redirected anywhere (an attacker
 * could otherwise use us as an open redirector, RFC 6749 §4.1.2.1).
 */
export async function readAuthorizationRequest(
  db: DatabasePool,
  params: URLSearchParams,
): Promise<ReadRequest> {
  const single = (name: string) => {
    const values = params.getAll(name);
    return values.length === 1 ? (values[0] as string) : values.length === 0 ? null : undefined;
  };
  const clientId = single("client_id");
  const redirectUri = single("redirect_uri");
  if (!clientId || clientId.length > 64) {
    return { kind: "unredirectable", detail: "client_id is missing or repeated." };
  }
  const client = await findClient(db, clientId);
  if (!client) return { kind: "unredirectable", detail: "No client has that client_id." };
  if (!redirectUri || !client.redirect_uris.includes(redirectUri)) {
    return {
      kind: "unredirectable",
      detail: "redirect_uri is missing or is not one this client registered.",
    };
  }
  const stateValue = single("state");
  const state = typeof stateValue === "string" ? stateValue : null;
  const at = (refusal: Refusal) => ({ ...refusal, redirectUri, state });

  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    if (values.length > 1) return at(refuse("invalid_request", `${name} is repeated.`));
    const value = values[0] as string;
    if (value.length > 2048 || !isPrintableText(value)) {
      return at(refuse("invalid_request", `${name} is too long or not printable text.`));
    }
  }
  if (params.has("request")) {
    return at(refuse("request_not_supported", "Request objects are not supported."));
  }
  if (params.has("request_uri")) {
    return at(refuse("request_uri_not_supported", "request_uri is not supported."));
  }
  const responseType = params.get("response_type");
  if (!responseType) return at(refuse("invalid_request", "response_type is required."));
  if (responseType !== "code") {
    return at(refuse("unsupported_response_type", "Only response_type=code is supported."));
  }
  const responseMode = params.get("response_mode");
  if (responseMode !== null && responseMode !== "query") {
    return at(refuse("invalid_request", "Only response_mode=query is supported."));
  }
  const scope = params.get("scope") ?? "";
  if (!scope.split(" ").includes("openid")) {
    return at(refuse("invalid_scope", "The openid scope is required."));
  }
  const method = params.get("code_challenge_method");
  const challenge = params.get("code_challenge");
  if (challenge !== null || method !== null) {
    // RFC 7636 §4.3: without a method the challenge is "plain", which lets
    // whoever sees the request redeem the code; S256 only.
    if (method !== "S256") {
      return at(refuse("invalid_request", "code_challenge_method must be S256."));
    }
    if (challenge === null || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
      return at(
        refuse("invalid_request", "code_challenge must be a base64url SHA-256 (43 characters)."),
      );
    }
  } else if (!client.confidential) {
    return at(
      refuse("invalid_request", "A public client must use PKCE (code_challenge with S256)."),
    );
  }
  const nonce = params.get("nonce");
  if (nonce !== null && nonce.length > 512) {
    return at(refuse("invalid_request", "nonce is longer than 512 characters."));
  }
  const prompt = new Set((params.get("prompt") ?? "").split(" ").filter(Boolean));
  if ([...prompt].some((p) => !promptValues.has(p))) {
    return at(refuse("invalid_request", "prompt may be none, login, consent or select_account."));
  }
  if (prompt.has("none") && prompt.size > 1) {
    return at(refuse("invalid_request", "prompt=none cannot be combined with other values."));
  }
  const maxAge = params.get("max_age");
  if (maxAge !== null && !/^\d{1,9}$/.test(maxAge)) {
    return at(refuse("invalid_request", "max_age must be a number of seconds."));
  }
  const loginAfter = params.get(loginAfterParam);
  if (loginAfter !== null && !/^\d{1,15}$/.test(loginAfter)) {
    return at(refuse("invalid_request", `${loginAfterParam} is not a time.`));
  }
  const claimsText = params.get("claims");
  const claims = claimsText === null ? null : readClaimsParameter(claimsText);
  if (claims && "refused" in claims) return at(refuse("invalid_request", claims.refused));
  const acrValues = (params.get("acr_values") ?? "").split(" ").filter(Boolean);
  if (acrValues.length > 10) {
    return at(refuse("invalid_request", "acr_values names more than 10 values."));
  }
  const asked = claims?.ok.acr ? claims.ok : null;
  return {
    kind: "valid",
    request: {
      client,
      redirectUri,
      state,
      scopes: grantedScopes(scope, client.allowed_scopes),
      nonce,
      codeChallenge: challenge,
      prompt,
      maxAgeSeconds: maxAge === null ? null : Number(maxAge),
      loginAfter: loginAfter === null ? null : Number(loginAfter),
      // The claims parameter's acr is the more precise request; acr_values
      // is a voluntary one for the ID token (Core §3.1.2.1).
      acr: asked?.acr
        ? { ...asked.acr, inIdToken: asked.acrInIdToken, atUserinfo: asked.acrAtUserinfo }
        : acrValues.length > 0
          ? { values: acrValues, essential: false, inIdToken: true, atUserinfo: false }
          : null,
    },
  };
}
