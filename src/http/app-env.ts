import type { Context } from "hono";
import type { Logger } from "../logger.ts";
import type { SessionWithUser } from "../sessions/sessions.ts";

/** Who is making the request, when anyone: set by the authenticate middleware. */
export type Principal = {
  /** The browser session (cookie), or the session a bearer token was issued from. */
  sessionId: string | null;
  via: "cookie" | "bearer";
  user: Pick<
    SessionWithUser,
    | "user_id"
    | "email"
    | "email_verified"
    | "full_name"
    | "role"
    | "status"
    | "is_whitelisted"
    | "amr"
  >;
};

/** The typed context of every request: what middleware sets for handlers to read. */
export type AppEnv = {
  Variables: {
    requestId: string;
    logger: Logger;
    /** The client's address, through trusted proxies; null when unknown. Read it with clientIpOf. */
    clientIp: () => string | null;
    /** null when the request carries no valid credentials. */
    principal: Principal | null;
    /** True when the credentials presented were good once and have expired (principal is null). */
    credentialExpired: boolean | undefined;
    /** True on a CORS route when the request's Origin is in CORS_ALLOWED_ORIGINS (src/http/cors.ts). */
    crossOriginAllowed: boolean | undefined;
    /** Records a refusal by the gate (throttled); set for every route that can refuse. */
    auditGateDenial: GateDenialAuditor;
    /** Throws `reauth_required` unless the caller authenticated recently (src/http/recent-auth.ts). */
    recentAuth: (c: Context<AppEnv>) => Promise<void>;
  };
};

/** Records a refusal by the gate, throttled (src/http/gate-denials.ts). */
export type GateDenialAuditor = (c: Context<AppEnv>, reason: string) => void;
