import { readFileSync } from "node:fs";
import { z } from "zod";
import type { Config } from "../config/index.ts";
import { ApiRoutes, operationsOf } from "../http/api-route.ts";
import { htmlPage } from "../http/form-answers.ts";
import { hasRecentAuth } from "../http/recent-auth.ts";
import { staticAsset } from "../http/static-asset.ts";
import { listPasskeys, type PasskeyDeps, type PasskeyView } from "../passkeys/registration.ts";
import { type StepUpProof, stepUpProofOf } from "../sign-in/reauth.ts";
import { displayName } from "./account-page.tsx";
import { AccountPage } from "./card-page.tsx";
import { javascript, scriptResponse } from "./script-file.ts";
import { StepUpForm } from "./step-up-form.tsx";

// The pages' passkey parts: the two script files (with password-toggle.js,
// the only JavaScript any page runs), the "Sign in with a passkey" control the sign-in and
// second-factor pages show, and a small page where a signed-in user adds and
// removes passkeys. The controls are hidden until the script finds WebAuthn
// in the browser: without it, nothing on the page does nothing.

// @simplewebauthn/browser's own bundle (ES2021, a global SimpleWebAuthnBrowser),
// as the package ships it: its package exports only the module entry, which
// sits beside the bundle's folder.
const browserLibrary = readFileSync(
  new URL("../dist/bundle/index.umd.min.js", import.meta.resolve("@simplewebauthn/browser")),
  "utf8",
);
const ceremonies = readFileSync(new URL("./passkey-ceremonies.js", import.meta.url), "utf8");

/** The scripts of a page with a passkey ceremony, in the order they must run. */
export const passkeyScripts = [
  "/assets/simplewebauthn-browser.js",
  "/assets/passkey-ceremonies.js",
] as const;

/** The passkey button of the sign-in page ("sign-in") and of the second-factor page. */
export function PasskeyButton(props: {
  ceremony: "sign-in" | "second-factor";
  redirectTo: string;
  label: string;
}) {
  return (
    <div data-passkey-ceremony={props.ceremony} data-redirect-to={props.redirectTo} hidden>
      <button type="button">{props.label}</button>
      <p role="status" hidden />
    </div>
  );
}

const notices: Record<string, string> = {
  added: "Passkey added. You can sign in with it from now on.",
  removed: "Passkey removed.",
};

const dateOf = (date: Date | null) => (date ? date.toISOString().slice(0, 10) : "never");

function PasskeyList(props: { passkeys: PasskeyView[] }) {
  if (props.passkeys.length === 0) {
    return <p class="muted">You have no passkey yet.</p>;
  }
  return (
    <>
      <ul>
        {props.passkeys.map((p) => (
          <li>
            <strong>{p.name}</strong>{" "}
            <span class="muted">
              added {dateOf(p.created_at)}, last used {dateOf(p.last_used_at)}
              {p.device_type === "multiDevice" ? ", synced" : ""}
            </span>{" "}
            <button type="button" class="secondary" data-passkey-remove={p.id} hidden>
              Remove
            </button>
          </li>
        ))}
      </ul>
      <p id="passkey-list-status" role="status" hidden />
    </>
  );
}

function passkeysPage(
  passkeys: PasskeyView[],
  notice: string | undefined,
  /** Set when the session is too old to add or remove one: how to step up first. */
  stepUp: StepUpProof | null,
  signedInAs: string,
) {
  return AccountPage({
    title: "Passkeys",
    signedInAs,
    ...(notice ? { notice } : {}),
    scripts: passkeyScripts,
    nav: (
      <>
        <a href="/account">Your account</a>
        <a href="/account/security">Account security</a>
      </>
    ),
    children: (
      <>
        {stepUp ? (
          <section aria-labelledby="reauth-heading">
            <h2 id="reauth-heading">Confirm it is you</h2>
            <p class="muted">Adding or removing a passkey needs a recent sign-in.</p>
            <StepUpForm proof={stepUp} redirectTo="/account/passkeys" />
          </section>
        ) : null}
        <p class="muted">
          A passkey signs you in with your device's screen lock or a security key, without a
          password, and counts as a second factor after one.
        </p>
        <PasskeyList passkeys={passkeys} />
        <form data-passkey-register hidden>
          <label for="passkey-name">Name for a new passkey</label>
          <input
            id="passkey-name"
            name="name"
            type="text"
            required
            maxlength={64}
            placeholder="Laptop"
          />
          <button type="submit">Add a passkey</button>
          <p role="status" hidden />
        </form>
      </>
    ),
  });
}

const pageOperation = operationsOf({ tag: "pages", access: "anyone" });

export function passkeyPageRoutes(deps: PasskeyDeps & { config: Pick<Config, "http"> }) {
  const routes = new ApiRoutes();

  routes.add(
    pageOperation("GET /assets/simplewebauthn-browser.js", "getWebAuthnBrowserLibrary", {
      summary: "@simplewebauthn/browser's bundle, for the passkey ceremonies of the pages",
      responses: scriptResponse,
    }),
    staticAsset(browserLibrary, javascript),
  );

  routes.add(
    pageOperation("GET /assets/passkey-ceremonies.js", "getPasskeyScript", {
      summary: "The pages' passkey script: sign in, second factor, add and remove a passkey",
      responses: scriptResponse,
    }),
    staticAsset(ceremonies, javascript),
  );

  routes.add(
    pageOperation("GET /account/passkeys", "showPasskeysPage", {
      summary: "The signed-in user's passkeys, to add and remove (HTML)",
      query: z.object({ notice: z.string().max(16).optional() }),
      access: "signed-in",
      // Without a session the page sends the browser to sign in and come back.
      accessCheckedByHandler: true,
      responses: {
        200: { description: "HTML page", contentType: "text/html", body: z.string() },
        303: { description: "Not signed in: to the sign-in page, which comes back here" },
      },
    }),
    async (c) => {
      const principal = c.get("principal");
      if (!principal) return c.redirect("/?redirect_to=%2Faccount%2Fpasskeys", 303);
      const userId = principal.user.user_id;
      const [passkeys, recent] = await Promise.all([listPasskeys(deps, userId), hasRecentAuth(c)]);
      const stepUp = recent ? null : await stepUpProofOf(deps.pool, userId);
      const notice = c.req.query("notice") ?? "";
      return htmlPage(
        c,
        passkeysPage(
          passkeys,
          Object.hasOwn(notices, notice) ? notices[notice] : undefined,
          stepUp,
          displayName(principal.user),
        ),
      );
    },
  );

  return routes;
}
