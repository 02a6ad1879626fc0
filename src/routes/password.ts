import { Hono } from "hono";
import type { DatabasePool } from "slonik";
import { z } from "zod";
import { createSession } from "../auth/sessions.ts";
import type { Config } from "../config.ts";
import type { AppEnv } from "../http/app-env.ts";
import { readBody } from "../http/json-body.ts";
import type { ApiRoute } from "../http/openapi.ts";
import { writeSessionCookie } from "../http/session-cookie.ts";
import type { Logger } from "../logger.ts";
import { sessionsCreated } from "../metrics.ts";
import { verifyPasswordLogin } from "../password/login.ts";
import { meResponse, toMeResponse } from "./me.ts";

// Input schemas: what a field may be before any domain rule looks at it.
// Strings are bounded (no unbounded hashing or storage work) and must be
// well-formed Unicode without control characters (PostgreSQL refuses NUL).

const noControlCharacters = (s: string) => s.isWellFormed() && !/\p{Cc}/u.test(s);

export const emailInput = z
  .string()
  .trim()
  .max(254, "Use at most 254 characters.")
  .pipe(z.email("Enter an email address."))
  .refine(noControlCharacters, "Enter an email address.");

/** Long enough for any valid password; the policy itself is checked by the domain. */
const passwordInput = z.string().min(1, "Enter a password.").max(1024, "Too long.");

export const loginBody = z.object({ email: emailInput, password: passwordInput });

export const loginResponse = z.object({ user: meResponse });

export const passwordApi: ApiRoute[] = [
  {
    method: "post",
    path: "/auth/login",
    summary: "Sign in with email and password; sets the session cookie",
    tag: "auth",
    access: "anyone",
    body: loginBody,
    responses: {
      200: { description: "Signed in", body: loginResponse },
      401: { description: "Wrong email or password (the same answer for an unknown email)" },
      403: { description: "Right password, but the account is inactive" },
      423: { description: "Right password, but the account is locked (Retry-After)" },
      429: { description: "Too many attempts from this client or on this account (Retry-After)" },
    },
  },
];

export function passwordRoutes(deps: { config: Config; pool: DatabasePool; logger: Logger }) {
  const { config, pool } = deps;
  const app = new Hono<AppEnv>();

  app.post("/auth/login", async (c) => {
    const body = await readBody(c, loginBody);
    const user = await verifyPasswordLogin(deps, {
      ...body,
      ip: c.get("clientIp"),
      userAgent: c.req.header("user-agent") ?? null,
    });
    const { secret } = await createSession(pool, {
      userId: user.id,
      ttlMs: config.SESSION_TTL,
      idleTtlMs: config.SESSION_IDLE_TTL,
      ip: c.get("clientIp"),
      userAgent: c.req.header("user-agent")?.slice(0, 512) ?? null,
    });
    sessionsCreated.inc();
    writeSessionCookie(c, config, secret);
    return c.json(loginResponse.parse({ user: toMeResponse(user) }));
  });

  return app;
}
