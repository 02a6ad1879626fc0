// A typed Gatehouse client: openapi-fetch over the types openapi-typescript
// generates from the service's own document:
//
//   npx openapi-typescript https://auth.example.com/openapi.json -o gatehouse-api.ts
//
// Every path, body, parameter and answer below is checked by the compiler
// against those types, so a change of the API shows up as a type error here.
// The test suite generates the types from the running service, type-checks
// this file against them and runs it (tests/rest-client.test.ts).

import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./gatehouse-api";

export type TokenPair = components["schemas"]["TokenPair"];
export type User = components["schemas"]["User"];
export type AdminUser = components["schemas"]["AdminUser"];
export type ErrorCode = components["schemas"]["Problem"]["code"];
type TokenRequest = paths["/auth/token"]["post"]["requestBody"]["content"]["application/json"];
type UserQuery = NonNullable<paths["/admin/users"]["get"]["parameters"]["query"]>;

/** A refusal: switch on `code` (one of the documented list), never on the message. */
export class GatehouseError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// problem+json carries `detail`/`title`; the token endpoint answers RFC 6749's
// `error_description`. Both carry `code`.
function refused(
  response: Response,
  error: { code: ErrorCode; detail?: string; title?: string; error_description?: string },
): GatehouseError {
  const message = error.detail ?? error.error_description ?? error.title ?? response.statusText;
  return new GatehouseError(response.status, error.code, message);
}

export type GatehouseClientOptions = {
  /** Where Gatehouse is served, e.g. https://auth.example.com */
  baseUrl: string;
  /** Seen by every request and answer (logging, tracing, checks). */
  middleware?: Middleware[];
};

export function createGatehouseClient({ baseUrl, middleware = [] }: GatehouseClientOptions) {
  const api = createClient<paths>({ baseUrl });
  for (const piece of middleware) api.use(piece);

  let tokens: TokenPair | null = null;
  let refreshing: Promise<TokenPair> | null = null;

  const bearer = () => {
    if (!tokens) throw new GatehouseError(401, "not_signed_in", "Sign in first.");
    return { Authorization: `Bearer ${tokens.access_token}` };
  };

  async function grant(body: TokenRequest): Promise<TokenPair> {
    const { data, error, response } = await api.POST("/auth/token", { body });
    if (error) throw refused(response, error);
    tokens = data;
    return data;
  }

  /**
   * Trades the refresh token for a new pair. Refresh tokens are single-use
   * and presenting one twice revokes its whole family (it looks like a
   * stolen token being replayed), so concurrent callers share the one
   * refresh in flight instead of each spending the same token.
   */
  function refresh(): Promise<TokenPair> {
    if (!refreshing) {
      const current = tokens;
      if (!current)
        return Promise.reject(new GatehouseError(401, "not_signed_in", "Sign in first."));
      refreshing = grant({ grant_type: "refresh_token", refresh_token: current.refresh_token })
        .catch((error: unknown) => {
          // The family is gone (revoked, expired or reused): sign in again.
          tokens = null;
          throw error;
        })
        .finally(() => {
          refreshing = null;
        });
    }
    return refreshing;
  }

  /**
   * Runs a call with the access token; when it is refused with 401 (the
   * token expired or was revoked), refreshes once and tries again. A call
   * that started before someone else's refresh simply retries with the new
   * token.
   */
  async function authorized<R extends { response: Response }>(
    call: (headers: { Authorization: string }) => Promise<R>,
  ): Promise<R> {
    const used = tokens;
    const first = await call(bearer());
    if (first.response.status !== 401 || !used) return first;
    if (tokens === used) await refresh();
    return call(bearer());
  }

  return {
    /** The current token pair, or null when signed out. */
    get tokens() {
      return tokens;
    },

    /** Creates an account; Gatehouse mails a confirmation link (the same answer for a taken address). */
    async signUp(email: string, password: string, fullName?: string): Promise<void> {
      const { error, response } = await api.POST("/auth/signup", {
        body: { email, password, ...(fullName ? { full_name: fullName } : {}) },
      });
      if (error) throw refused(response, error);
    },

    /**
     * The password grant. An account with a second factor answers
     * `mfa_required` with an `mfa_token` for the mfa grant (not shown here).
     */
    signIn(email: string, password: string): Promise<TokenPair> {
      return grant({ grant_type: "password", email, password });
    },

    refresh,

    /** Confirms the address with the token from the mail's link, as the account it was sent to. */
    async confirmEmail(token: string): Promise<User> {
      const { data, error, response } = await authorized((headers) =>
        api.POST("/auth/email/verify", { headers, body: { token } }),
      );
      if (error) throw refused(response, error);
      return data.user;
    },

    async me(): Promise<User> {
      const { data, error, response } = await authorized((headers) => api.GET("/me", { headers }));
      if (error) throw refused(response, error);
      return data;
    },

    /** Administrators only: one page of users; pass `next_cursor` back as `cursor` for the next. */
    async listUsers(query: UserQuery = {}) {
      const { data, error, response } = await authorized((headers) =>
        api.GET("/admin/users", { headers, params: { query } }),
      );
      if (error) throw refused(response, error);
      return data;
    },

    /** Revokes the refresh token, which ends its session and every access token of it. */
    async signOut(): Promise<void> {
      if (!tokens) return;
      const { error, response } = await api.POST("/auth/revoke", {
        body: { token: tokens.refresh_token, token_type_hint: "refresh_token" },
      });
      if (error) throw refused(response, error);
      tokens = null;
    },
  };
}

export type GatehouseClient = ReturnType<typeof createGatehouseClient>;
