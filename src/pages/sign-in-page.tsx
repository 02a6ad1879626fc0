import { Hono } from "hono";
import type { Child } from "hono/jsx";
import type { DatabasePool } from "slonik";
import { recordAudit } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { isErrorCode } from "../errors.ts";
import type { AppEnv, Principal } from "../http/app-env.ts";
import { requestAuditFields } from "../http/audit-fields.ts";
import { errorMessage } from "../http/error-map.ts";
import { safeRedirectTarget } from "../http/redirect-target.ts";
import { clearSessionCookie } from "../http/session-cookie.ts";
import type { Logger } from "../logger.ts";
import type { ProviderName, SignInProvider } from "../providers/sign-in-providers.ts";
import type { CredentialCache } from "../sessions/credential-cache.ts";
import { signOutSession } from "../sessions/sessions.ts";
import { currentBrand } from "./branding.tsx";
import { HtmlDocument } from "./html-document.tsx";
import { PasskeyButton, passkeyScripts } from "./passkey-page.tsx";
import { LoginForm } from "./password-pages.tsx";

// The sign-in page: server-rendered, no JavaScript. Provider buttons are plain
// links to /auth/<provider>/login carrying redirect_to through; a failed
// callback comes back here as /?error=<reason> and the page says why. Signed
// in, it shows who you are, whether you are still waiting for approval, and a
// sign-out button (a form: POST, so a link on another site cannot sign you out).

const css = `
*{box-sizing:border-box}body{margin:0;min-height:100vh;display:grid;grid-template-rows:auto 1fr auto;justify-items:center;align-items:center;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;background:#f6f8fa}
main{width:min(26rem,100% - 2rem);background:#fff;border:1px solid #d0d7de;border-radius:12px;padding:2rem}
h1{font-size:1.4rem;margin:0 0 .3rem}p{margin:.5rem 0}.muted{color:#57606a;font-size:.9rem}
.methods{display:flex;flex-direction:column;gap:.6rem;margin:1.4rem 0 .6rem}
a.button,button{display:block;width:100%;text-align:center;font:inherit;font-weight:600;padding:.6rem 1rem;border-radius:8px;border:1px solid #d0d7de;background:#f6f8fa;color:#1f2328;text-decoration:none;cursor:pointer}
a.button:hover,button:hover{background:#eaeef2}a.primary,button.primary{background:var(--accent);border-color:var(--accent);color:var(--accent-text)}a.primary:hover,button.primary:hover{background:var(--accent);filter:brightness(.92)}
.error{background:#ffebe9;border:1px solid #ff8182;padding:.6rem .9rem;border-radius:8px}
label{display:block;margin:.7rem 0 .2rem;font-weight:600}form button{margin-top:1rem}
input[type=email],input[type=password]{width:100%;font:inherit;padding:.5rem .6rem;border:1px solid #d0d7de;border-radius:8px}
.links{display:flex;gap:1rem;flex-wrap:wrap;font-size:.9rem;margin-top:1rem}.or{text-align:center}
.pending{background:#fff8c5;border:1px solid #d4a72c;padding:.6rem .9rem;border-radius:8px}
[hidden]{display:none!important}
`;

function Page(props: { children: Child; scripts?: readonly string[] }) {
  return (
    <HtmlDocument title="Sign in" css={css} scripts={props.scripts}>
      <main>{props.children}</main>
    </HtmlDocument>
  );
}

function SignedIn(props: { principal: Principal; continueTo: string | null }) {
  const { user } = props.principal;
  const refusal =
    user.status !== "active"
      ? `This account is ${user.status}. Ask an administrator.`
      : !user.is_whitelisted
        ? "Your account is waiting for an administrator's approval. You will get in as soon as they approve it."
        : null;
  return (
    <>
      <h1>Signed in</h1>
      <p>
        as <strong>{user.full_name ?? user.email ?? "you"}</strong>
        {user.email && user.full_name ? <span class="muted"> ({user.email})</span> : null}
      </p>
      {refusal ? <p class="pending">{refusal}</p> : null}
      {user.email && !user.email_verified ? (
        <p class="pending">
          Confirm your email address with the link we mailed you.{" "}
          <a href="/auth/email/resend">Send it again</a>
        </p>
      ) : null}
      <div class="methods">
        {props.continueTo && !refusal ? (
          <a class="button primary" href={props.continueTo}>
            Continue
          </a>
        ) : null}
        <a class="button" href="/account/security">
          Account security
        </a>
        {user.role === "admin" && user.status === "active" && user.is_whitelisted ? (
          <a class="button" href="/admin">
            Admin console
          </a>
        ) : null}
        <form method="post" action="/sign-out">
          <button type="submit">Sign out</button>
        </form>
      </div>
    </>
  );
}

function SignIn(props: {
  providers: { id: string; label: string }[];
  redirectTo: string;
  error: string | null;
  consentNotice: boolean;
}) {
  const query =
    props.redirectTo === "/" ? "" : `?redirect_to=${encodeURIComponent(props.redirectTo)}`;
  return (
    <>
      <h1>Sign in</h1>
      <p class="muted">to continue to the applications behind {currentBrand().name}.</p>
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <div class="methods">
        {props.providers.map((p) => (
          <a class="button" href={`/auth/${p.id}/login${query}`}>
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
      <LoginForm redirectTo={props.redirectTo} />
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
    const principal = c.get("principal");
    const requested = c.req.query("redirect_to");
    const redirectTo = safeRedirectTarget(requested, config.http);
    c.header("cache-control", "no-store");
    // prompt=login: an application (OpenID Connect prompt=login or max_age)
    // wants a fresh sign-in, so the form is shown to a signed-in browser too.
    if (principal && c.req.query("prompt") !== "login") {
      return c.html(
        <Page>
          <SignedIn principal={principal} continueTo={requested ? redirectTo : null} />
        </Page>,
      );
    }
    // Only a known code names a message: the page never shows the query's own text.
    const error = c.req.query("error");
    return c.html(
      <Page scripts={passkeyScripts}>
        <SignIn
          providers={providers}
          redirectTo={redirectTo}
          error={isErrorCode(error) ? errorMessage(error) : null}
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
    return c.redirect("/", 303);
  });

  return app;
}
