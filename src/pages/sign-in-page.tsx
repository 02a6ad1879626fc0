import { Hono } from "hono";
import type { Child } from "hono/jsx";
import type { DatabasePool } from "slonik";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { isErrorCode } from "../errors.ts";
import type { AppEnv } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { errorMessage } from "../http/error-map.ts";
import { safeRedirectTarget } from "../http/redirect-target.ts";
import { clearSessionCookie } from "../http/session-cookie.ts";
import { takeTypedEmail } from "../http/typed-email-cookie.ts";
import type { Logger } from "../logger.ts";
import type { ProviderName, SignInProvider } from "../providers/sign-in-providers.ts";
import type { CredentialCache } from "../sessions/credential-cache.ts";
import { signOutSession } from "../sessions/sessions.ts";
import { currentBrand } from "./branding.tsx";
import { HtmlDocument, Messages } from "./html-document.tsx";
import { PasskeyButton, passkeyScripts } from "./passkey-page.tsx";
import { LoginForm } from "./password-pages.tsx";
import { passwordToggleScript } from "./password-toggle.tsx";
import { ProviderMark } from "./provider-marks.tsx";

// The sign-in page: server-rendered, no JavaScript needed. Provider buttons
// are plain links to /auth/<provider>/login carrying redirect_to through; a
// failed callback or a refused password comes back here as /?error=<reason>
// and the page says why, with the address typed kept (typed-email-cookie.ts).
// Signed in, `/` is the account center (/account). Sign-out is a form: POST,
// so a link on another site cannot sign you out.

function Page(props: { children: Child; scripts?: readonly string[] }) {
  return (
    <HtmlDocument title="Sign in" scripts={[...(props.scripts ?? []), passwordToggleScript]}>
      <main>{props.children}</main>
    </HtmlDocument>
  );
}

function SignIn(props: {
  providers: { id: ProviderName; label: string }[];
  redirectTo: string;
  error: string | null;
  notice: string | null;
  email: string | undefined;
  consentNotice: boolean;
}) {
  const query =
    props.redirectTo === "/" ? "" : `?redirect_to=${encodeURIComponent(props.redirectTo)}`;
  return (
    <>
      <h1>Sign in</h1>
      <p class="muted">to continue to the applications behind {currentBrand().name}.</p>
      <Messages notice={props.notice} error={props.error} />
      <div class="methods">
        {props.providers.map((p) => (
          <a class="button" href={`/auth/${p.id}/login${query}`}>
            <ProviderMark provider={p.id} />
            Continue with {p.label}
          </a>
        ))}
        <PasskeyButton
          ceremony="sign-in"
          redirectTo={props.redirectTo}
          label="Sign in with a passkey"
        />
      </div>
      {props.providers.length > 0 ? <p class="muted or">or with your email and password</p> : null}
      <LoginForm redirectTo={props.redirectTo} email={props.email} />
      <p class="links">
        <a href={`/auth/email-code${query}`}>Email me a code</a>
        <a href="/auth/signup">Create an account</a>
        <a href="/auth/password/forgot">Forgot your password?</a>
      </p>
      {props.consentNotice ? (
        <p class="muted">
          Signing in for the first time records your consent to this service keeping your name,
          email and sign-in history.
        </p>
      ) : null}
      <p class="muted">New accounts wait for an administrator's approval.</p>
    </>
  );
}

// Only a known code names a message: the page never shows the query's own text.
const notices: Record<string, string> = {
  signed_out: "You are signed out.",
  account_deleted: "Your account is deleted. Thank you for using it.",
};
// The page's own words for some codes, and for words a link may carry that
// are not refusal codes of their own (`?error=expired`).
const pageMessages: Record<string, string> = {
  expired: "Your session has ended or expired. Sign in again.",
  session_expired: "Your session has ended or expired. Sign in again.",
  account_denied:
    "An administrator denied this account, so it cannot sign in. Ask them if you think this is a mistake.",
};

function signInPageNotice(code: string | undefined): string | null {
  return code !== undefined && Object.hasOwn(notices, code) ? (notices[code] as string) : null;
}

function signInPageError(code: string | undefined): string | null {
  if (code !== undefined && Object.hasOwn(pageMessages, code)) return pageMessages[code] as string;
  return isErrorCode(code) ? errorMessage(code) : null;
}

export function signInPageRoutes({
  config,
  pool,
  logger,
  signInProviders,
  credentialCache,
}: {
  config: Pick<Config, "access" | "http" | "session">;
  pool: DatabasePool;
  logger: Logger;
  signInProviders: ReadonlyMap<ProviderName, SignInProvider>;
  credentialCache?: CredentialCache | undefined;
}) {
  const app = new Hono<AppEnv>();
  const providers = [...signInProviders.values()].map((p) => ({
    id: p.name,
    label: p.label,
  }));

  app.get("/", (c) => {
    const requested = c.req.query("redirect_to");
    const redirectTo = safeRedirectTarget(requested, config.http);
    c.header("cache-control", "no-store");
    // prompt=login: an application (OpenID Connect prompt=login or max_age)
    // wants a fresh sign-in, so the form is shown to a signed-in browser too.
    if (c.get("principal") && c.req.query("prompt") !== "login") {
      const query = requested ? `?redirect_to=${encodeURIComponent(redirectTo)}` : "";
      return c.redirect(`/account${query}`, 303);
    }
    return c.html(
      <Page scripts={passkeyScripts}>
        <SignIn
          providers={providers}
          redirectTo={redirectTo}
          error={signInPageError(c.req.query("error"))}
          notice={signInPageNotice(c.req.query("notice"))}
          email={takeTypedEmail(c)}
          consentNotice={config.access.REQUIRE_CONSENT}
        />
      </Page>,
    );
  });

  // The page's sign-out button: POST /auth/logout's work, then back to the
  // page (a 204 would leave the browser looking at a stale page).
  app.post("/sign-out", async (c) => {
    const principal = c.get("principal");
    if (principal?.sessionId) {
      await signOutSession(pool, principal.sessionId, credentialCache);
      await recordAudit(pool, logger, {
        eventType: "logout",
        result: "success",
        userId: principal.user.user_id,
        ...requestAuditFields(c),
      });
    }
    clearSessionCookie(c, config);
    return c.redirect("/?notice=signed_out", 303);
  });

  return app;
}
