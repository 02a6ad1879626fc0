import { Hono } from "hono";
import type { DatabasePool } from "slonik";
import { z } from "zod";
import { meResponse, toMeResponse } from "../account/user-view.ts";
import { createSession } from "../auth/sessions.ts";
import type { Config } from "../config.ts";
import type { AppEnv } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { requireSignedIn } from "../http/gate.ts";
import { readBody } from "../http/json-body.ts";
import type { ApiRoute } from "../http/openapi.ts";
import { writeSessionCookie } from "../http/session-cookie.ts";
import type { Logger } from "../logger.ts";
import { createMailer } from "../mail/mailer.ts";
import { sessionsCreated } from "../metrics.ts";
import {
  changePassword,
  requestPasswordReset,
  resendVerification,
  resetPassword,
  signUp,
  verifyEmail,
} from "../password/accounts.ts";
import { verifyPasswordLogin } from "../password/login.ts";

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

const tokenInput = z.string().max(100, "This link is invalid.");

const fullNameInput = z
  .string()
  .trim()
  .min(1)
  .max(200, "Use at most 200 characters.")
  .refine(noControlCharacters, "Use printable characters only.");

export const loginBody = z.object({ email: emailInput, password: passwordInput });
export const signupBody = z.object({
  email: emailInput,
  password: passwordInput,
  full_name: fullNameInput.nullish(),
  consent: z.boolean().optional(),
});
export const emailBody = z.object({ email: emailInput });
export const verifyBody = z.object({ token: tokenInput });
export const resetBody = z.object({ token: tokenInput, password: passwordInput });
export const changeBody = z.object({
  current_password: passwordInput,
  new_password: passwordInput,
});

export const loginResponse = z.object({ user: meResponse });
const messageResponse = z.object({ message: z.string() });

const rateLimitedResponse = {
  429: { description: "Too many requests from this client or for this address (Retry-After)" },
};

export const passwordApi: ApiRoute[] = [
  {
    method: "post",
    path: "/auth/signup",
    summary: "Create an email + password account; a verification mail follows",
    tag: "auth",
    access: "anyone",
    body: signupBody,
    responses: {
      201: {
        description: "Accepted; the same answer when the address already has an account",
        body: messageResponse,
      },
      ...rateLimitedResponse,
    },
  },
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
      ...rateLimitedResponse,
    },
  },
  {
    method: "post",
    path: "/auth/email/verify",
    summary: "Confirm an email address with the token from the mail (single use, 24 h)",
    tag: "auth",
    access: "anyone",
    body: verifyBody,
    responses: {
      200: { description: "Verified", body: loginResponse },
      400: { description: "Invalid input, or a link that is unknown, used or expired" },
    },
  },
  {
    method: "post",
    path: "/auth/email/resend",
    summary: "Send the verification mail again (202 whether or not the address has an account)",
    tag: "auth",
    access: "anyone",
    body: emailBody,
    responses: { 202: { description: "Accepted", body: messageResponse }, ...rateLimitedResponse },
  },
  {
    method: "post",
    path: "/auth/password/forgot",
    summary: "Mail a password-reset link (202 whether or not the address has an account)",
    tag: "auth",
    access: "anyone",
    body: emailBody,
    responses: { 202: { description: "Accepted", body: messageResponse }, ...rateLimitedResponse },
  },
  {
    method: "post",
    path: "/auth/password/reset",
    summary: "Set a new password with the mailed token (single use, 1 h); signs out everywhere",
    tag: "auth",
    access: "anyone",
    body: resetBody,
    responses: {
      200: { description: "Password set; every session and token revoked", body: messageResponse },
      400: { description: "Invalid input, a refused password, or a used/expired link" },
    },
  },
  {
    method: "post",
    path: "/auth/password/change",
    summary: "Change the password; other sessions are signed out, this one stays",
    tag: "auth",
    access: "signed-in",
    body: changeBody,
    responses: {
      200: { description: "Changed", body: messageResponse },
      400: { description: "Invalid input, a wrong current password, or a refused new one" },
      409: { description: "The account has no password (use forgot password)" },
      ...rateLimitedResponse,
    },
  },
];

export function passwordRoutes(deps: { config: Config; pool: DatabasePool; logger: Logger }) {
  const { config, pool } = deps;
  const accounts = { ...deps, mailer: createMailer(config, deps.logger) };
  const app = new Hono<AppEnv>();

  app.post("/auth/signup", async (c) => {
    const body = await readBody(c, signupBody);
    await signUp(
      accounts,
      {
        email: body.email,
        password: body.password,
        fullName: body.full_name ?? null,
        consent: body.consent,
      },
      requestAuditFields(c),
    );
    return c.json({ message: "Check your inbox to confirm your email address." }, 201);
  });

  app.post("/auth/login", async (c) => {
    const body = await readBody(c, loginBody);
    const user = await verifyPasswordLogin(deps, { ...body, ...requestAuditFields(c) });
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

  app.post("/auth/email/verify", async (c) => {
    const { token } = await readBody(c, verifyBody);
    const user = await verifyEmail(accounts, token, requestAuditFields(c));
    return c.json(loginResponse.parse({ user: toMeResponse(user) }));
  });

  app.post("/auth/email/resend", async (c) => {
    const { email } = await readBody(c, emailBody);
    await resendVerification(accounts, email, requestAuditFields(c));
    return c.json(
      { message: "If this address has an unconfirmed account, a new mail is on its way." },
      202,
    );
  });

  app.post("/auth/password/forgot", async (c) => {
    const { email } = await readBody(c, emailBody);
    await requestPasswordReset(accounts, email, requestAuditFields(c));
    return c.json({ message: "If this address has an account, a reset link is on its way." }, 202);
  });

  app.post("/auth/password/reset", async (c) => {
    const body = await readBody(c, resetBody);
    await resetPassword(accounts, body, requestAuditFields(c));
    return c.json({ message: "Password changed; sign in with the new one." });
  });

  app.post("/auth/password/change", requireSignedIn(), async (c) => {
    const body = await readBody(c, changeBody);
    const principal = c.get("principal");
    await changePassword(
      accounts,
      { userId: principal?.user.user_id ?? "", sessionId: principal?.sessionId ?? null },
      { currentPassword: body.current_password, newPassword: body.new_password },
      requestAuditFields(c),
    );
    return c.json({ message: "Password changed; your other sessions were signed out." });
  });

  if (accounts.mailer.outbox) {
    const outbox = accounts.mailer.outbox;
    // Development only (never mounted in production): the mails that were not sent.
    app.get("/dev/outbox", (c) => c.json({ messages: outbox }));
  }

  return app;
}
