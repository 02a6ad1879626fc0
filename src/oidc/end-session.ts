import type { DatabasePool } from "slonik";
import { findClient } from "./clients.ts";
import type { IdTokens } from "./id-tokens.ts";

// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): where the
// browser may be sent afterwards, and whose sign-out the request is.

export type EndSession =
  | { kind: "unredirectable"; detail: string }
  | {
      kind: "valid";
      /** post_logout_redirect_uri with state, or null: our own signed-out page. */
      redirectTo: string | null;
      /** The user the id_token_hint names; a sign-out without one is confirmed first. */
      hintedUser: string | null;
    };

/**
 * Reads an end-session request. post_logout_redirect_uri must be one the
 * client registered, exactly, and the client must be known (client_id, or
 * the id_token_hint's audience): otherwise no redirect at all.
 */
export async function readEndSession(
  { pool, idTokens }: { pool: DatabasePool; idTokens: IdTokens },
  params: URLSearchParams,
): Promise<EndSession> {
  const one = (name: string) => {
    const values = params.getAll(name);
    return values.length > 1 ? undefined : (values[0] ?? null);
  };
  const [hintText, clientId, target, state] = [
    one("id_token_hint"),
    one("client_id"),
    one("post_logout_redirect_uri"),
    one("state"),
  ];
  if ([hintText, clientId, target, state].includes(undefined)) {
    return { kind: "unredirectable", detail: "A parameter is repeated." };
  }
  const hint = hintText ? await idTokens.readHint(hintText) : null;
  if (hintText && !hint) return { kind: "unredirectable", detail: "id_token_hint is not ours." };
  if (clientId && hint && clientId !== hint.aud) {
    return { kind: "unredirectable", detail: "client_id is not the id_token_hint's audience." };
  }
  if (!target) return { kind: "valid", redirectTo: null, hintedUser: hint?.sub ?? null };
  const client = await findClient(pool, clientId ?? hint?.aud ?? "");
  if (!client?.post_logout_redirect_uris.includes(target)) {
    return {
      kind: "unredirectable",
      detail: "post_logout_redirect_uri is not one the client registered.",
    };
  }
  const url = new URL(target);
  if (state) url.searchParams.set("state", state.slice(0, 1024));
  return { kind: "valid", redirectTo: url.href, hintedUser: hint?.sub ?? null };
}
