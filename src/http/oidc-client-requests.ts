import type { Context } from "hono";
import { z } from "zod";
import { DomainError, errorCodes } from "../errors.ts";
import type { AppEnv } from "./app-env.ts";
import { invalidRequest } from "./oauth-answers.ts";

// What the OpenID provider's endpoints share in reading a request: a
// relying party's client authentication and the RFC 6749 error body the
// token and revocation endpoints answer, and the browser endpoints' forms.

export const clientTokenError = z
  .object({
    error: z.enum(["invalid_request", "invalid_grant", "invalid_client", "unsupported_grant_type"]),
    error_description: z.string(),
    code: z.enum(errorCodes).meta({ description: "Gatehouse's stable code (docs/errors.md)" }),
  })
  .meta({ id: "OpenIdTokenError", description: "RFC 6749 §5.2 error response" });

/** A refusal of the token or revocation endpoint, as its operation documents it. */
export const clientTokenRefusal = (description: string) => ({
  description,
  body: clientTokenError,
  contentType: "application/json",
});

/** What the token and revocation endpoints answer a client that fails authentication. */
export const invalidClientAnswer = clientTokenRefusal(
  "invalid_client: unknown client, or a wrong or missing secret",
);

/**
 * The client's id and secret: HTTP Basic (RFC 6749 §2.3.1, both
 * form-urlencoded inside) or the body's client_id and client_secret, never
 * both ways at once.
 */
export function clientCredentials(
  authorization: string | undefined,
  body: { clientId: string | null; secret: string | null },
): { clientId: string; secret: string | null } {
  const basic = authorization ? /^Basic +([A-Za-z0-9+/]+=*) *$/i.exec(authorization) : null;
  if (authorization !== undefined && !basic) {
    throw new DomainError("invalid_client", {
      detail: "Only HTTP Basic client authentication is accepted in the Authorization header.",
    });
  }
  if (basic) {
    if (body.secret !== null) throw invalidRequest("Use one client authentication method.");
    const decoded = Buffer.from(basic[1] as string, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    let clientId: string;
    let secret: string;
    try {
      const form = (text: string) => decodeURIComponent(text.replaceAll("+", " "));
      clientId = form(colon < 0 ? decoded : decoded.slice(0, colon));
      secret = form(colon < 0 ? "" : decoded.slice(colon + 1));
    } catch {
      throw new DomainError("invalid_client");
    }
    if (body.clientId !== null && body.clientId !== clientId) {
      throw invalidRequest("client_id differs from the one in the Authorization header.");
    }
    return { clientId, secret };
  }
  if (!body.clientId) throw new DomainError("invalid_client", { detail: "client_id is required." });
  return { clientId: body.clientId, secret: body.secret };
}

/** A form's body as text; anything else is refused. */
export async function formText(c: Context<AppEnv>): Promise<string> {
  const type = c.req.header("content-type")?.split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") throw new DomainError("unsupported_media_type");
  return c.req.text();
}

/** The endpoints' optional text parameters: a URL or a token at most. */
export const optionalParam = z.string().max(2048).optional();
