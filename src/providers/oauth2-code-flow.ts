import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { type FlowSecrets, ProviderFailure, type ProviderTokens } from "./sign-in-providers.ts";

// The authorization code flow (RFC 6749 §4.1), with PKCE (RFC 7636) where the
// provider takes it, as the social providers speak it. The state and the
// verifier travel in our flow cookie; the code is the only thing read from
// the callback (a provider's `access_token` in a query string is never
// believed). Every request has a timeout, and every answer is judged the same
// way (see readProviderJson).

export type OAuthClient = { clientId: string; clientSecret: string; redirectUri: string };

export type CodeFlowEndpoints = {
  authorizeUrl: string;
  tokenUrl: string;
  /** How the client proves itself at the token endpoint (RFC 6749 §2.3.1). */
  clientAuth: "basic" | "body";
  /** Facebook redeems the code with a GET and a query string; everyone else POSTs a form. */
  tokenMethod?: "GET" | "POST";
  pkce: boolean;
};

const timeoutMs = 10_000;

const newSecret = () => randomBytes(32).toString("base64url");
const challengeOf = (verifier: string) => createHash("sha256").update(verifier).digest("base64url");

/** Where to send the browser, and the secrets the callback will need. */
export function authorizationRedirect(
  endpoints: CodeFlowEndpoints,
  client: OAuthClient,
  scope: string,
  extraParams: Record<string, string> = {},
): { authorizationUrl: string; secrets: FlowSecrets } {
  const secrets: FlowSecrets = { state: newSecret() };
  const url = new URL(endpoints.authorizeUrl);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    scope,
    state: secrets.state,
    ...extraParams,
  }).toString();
  if (endpoints.pkce) {
    secrets.codeVerifier = newSecret();
    url.searchParams.set("code_challenge", challengeOf(secrets.codeVerifier));
    url.searchParams.set("code_challenge_method", "S256");
  }
  return { authorizationUrl: url.toString(), secrets };
}

const tokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string().nullish(),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).nullish(),
  refresh_token: z.string().nullish(),
  // GitHub separates scopes with commas, Twitch sends an array.
  scope: z.union([z.string(), z.array(z.string())]).nullish(),
});

/** The code from the callback, exchanged for the person's tokens. */
export async function redeemCode(
  endpoints: CodeFlowEndpoints,
  client: OAuthClient,
  code: string,
  secrets: FlowSecrets,
): Promise<ProviderTokens> {
  if (endpoints.pkce && !secrets.codeVerifier) {
    throw new ProviderFailure("refused", "the flow cookie lacks the PKCE verifier");
  }
  const params = new URLSearchParams({
    grant_type: "authorization_code",
    code,
    redirect_uri: client.redirectUri,
    client_id: client.clientId,
  });
  if (secrets.codeVerifier) params.set("code_verifier", secrets.codeVerifier);
  const headers: Record<string, string> = {};
  if (endpoints.clientAuth === "basic") {
    const pair = `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`;
    headers.authorization = `Basic ${btoa(pair)}`;
  } else {
    params.set("client_secret", client.clientSecret);
  }
  const answer =
    endpoints.tokenMethod === "GET"
      ? await readProviderJson("token endpoint", `${endpoints.tokenUrl}?${params}`, { headers })
      : await readProviderJson("token endpoint", endpoints.tokenUrl, {
          method: "POST",
          headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
          body: params.toString(),
        });
  const parsed = tokenResponse.safeParse(answer);
  if (!parsed.success) {
    throw new ProviderFailure("unavailable", "the token endpoint's answer has no access token");
  }
  const tokens = parsed.data;
  const scope = Array.isArray(tokens.scope) ? tokens.scope : tokens.scope?.split(/[\s,]+/);
  return {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? null,
    tokenType: tokens.token_type?.toLowerCase() ?? "bearer",
    scope: scope?.filter(Boolean).join(" ") || null,
    expiresAt: tokens.expires_in ? new Date(Date.now() + tokens.expires_in * 1000) : null,
  };
}

/** The provider's own words in an error body, for the log. */
function errorText(body: unknown): string {
  if (typeof body !== "object" || body === null) return "";
  const fields = body as Record<string, unknown>;
  return [fields.error, fields.error_description, fields.message]
    .map((v) => (typeof v === "string" ? v : JSON.stringify(v ?? null)))
    .filter((v) => v !== "null")
    .join(": ")
    .slice(0, 300);
}

/**
 * One request to a provider, read as JSON. A provider that speaks (a JSON
 * answer that is not a 2xx, or a 2xx carrying `error`, as GitHub answers a
 * used code) refused this sign-in; one that does not (no answer within 10 s,
 * HTML, garbage) is unavailable. A 5xx with a JSON error body therefore reads
 * as a refusal: the sign-in cannot go on either way, and the person starts
 * again.
 */
export async function readProviderJson(
  what: string,
  url: string,
  init: RequestInit,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      ...init,
      headers: { accept: "application/json", "user-agent": "Gatehouse", ...init.headers },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new ProviderFailure("unavailable", `${what}: ${String(error)}`);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new ProviderFailure(
      "unavailable",
      `${what} answered ${response.status} with something other than JSON`,
    );
  }
  const errorInBody = typeof body === "object" && body !== null && "error" in body;
  if (!response.ok || errorInBody) {
    throw new ProviderFailure("refused", `${what} answered ${response.status}: ${errorText(body)}`);
  }
  return body;
}
