import { expect } from "bun:test";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { grantConsent } from "../sql/oauth-consents.ts";
import { browserTestApp, chromiumTests } from "./support/chromium.ts";
import { registerClient } from "./support/relying-party.ts";
import { signedInUser } from "./support/sign-in.ts";

// Every page people see, checked in real Chromium at a desktop and a phone
// width, in the light and the dark colour scheme: axe-core finds no serious or critical WCAG 2.1 A/AA violation, and
// nothing scrolls sideways. Screenshots land in tests/artifacts/ (not
// committed) for a person to look at.
const { browserTest, openBrowser } = chromiumTests("accessibility browser tests");

const artifacts = join(import.meta.dir, "artifacts");
const { db, app } = await browserTestApp();

type Visitor = "anyone" | "member" | "admin";

type Ids = { memberId: string; waitingId: string; clientId: string };
/** A form to fill and send once the page is loaded: the page checked is its answer. */
type Submission = { fields: Record<string, string>; button: string };

const pages: { path: (ids: Ids) => string; as: Visitor; submit?: (ids: Ids) => Submission }[] = [
  { path: () => "/", as: "anyone" },
  { path: () => "/auth/signup", as: "anyone" },
  { path: () => "/auth/password/reset", as: "anyone" },
  { path: () => "/auth/email-code", as: "anyone" },
  { path: () => "/", as: "member" },
  { path: () => "/account", as: "member" },
  { path: ({ clientId }) => `/account/apps/${clientId}/remove`, as: "member" },
  { path: () => "/account/security", as: "member" },
  { path: () => "/account/passkeys", as: "member" },
  { path: () => "/docs", as: "anyone" },
  { path: () => "/admin", as: "admin" },
  { path: () => "/admin/view/users", as: "admin" },
  { path: ({ memberId }) => `/admin/view/users/${memberId}`, as: "admin" },
  { path: ({ waitingId }) => `/admin/view/users/${waitingId}`, as: "admin" },
  { path: () => "/admin/view/audit", as: "admin" },
  { path: () => "/admin/view/allowlist", as: "admin" },
  {
    path: () => "/admin/view/allowlist",
    as: "admin",
    submit: ({ waitingId }) => ({
      fields: { "#dry-run-value": "example.com", "#dry-run-user": waitingId },
      button: "Try it",
    }),
  },
  { path: () => "/admin/view/webhooks", as: "admin" },
  { path: () => "/admin/view/clients", as: "admin" },
  { path: ({ clientId }) => `/admin/view/clients/${clientId}/remove`, as: "admin" },
  { path: () => "/admin", as: "member" },
];

const widths = [1280, 390] as const;
const schemes = ["light", "dark"] as const;

for (const colorScheme of schemes)
  for (const width of widths) {
    browserTest(
      `every page at ${width} px, ${colorScheme}: no serious or critical axe-core violation, no sideways scroll`,
      async () => {
        const browser = await openBrowser();
        const member = await signedInUser(db.pool, app.config, {
          isWhitelisted: true,
          fullName: "Mia Member",
        });
        const admin = await signedInUser(db.pool, app.config, {
          role: "admin",
          isWhitelisted: true,
          fullName: "Ada Admin",
        });
        const waiting = await signedInUser(db.pool, app.config, { emailVerified: false });
        // An app the member let in, with long redirect URIs (the phone width must hold them).
        const client = await registerClient(db.pool, {
          name: "Team wiki",
          redirect_uris: [
            "https://wiki.team.example.com/auth/oidc/callback/with/a/rather/long/path/segment",
          ],
          post_logout_redirect_uris: ["https://wiki.team.example.com/signed-out"],
          first_party: false,
        });
        await grantConsent(db.pool, member.user.id, client.clientId, ["openid", "email"]);
        const ids = {
          memberId: member.user.id,
          waitingId: waiting.user.id,
          clientId: client.clientId,
        };
        const cookies: Record<Visitor, string | null> = {
          anyone: null,
          member: member.cookie,
          admin: admin.cookie,
        };
        await mkdir(artifacts, { recursive: true });
        const found: string[] = [];
        for (const { path: pathOf, as, submit } of pages) {
          const path = pathOf(ids);
          const context = await browser.newContext({
            viewport: { width, height: 900 },
            colorScheme,
          });
          const cookie = cookies[as];
          if (cookie) {
            const [name, value] = cookie.split("=") as [string, string];
            await context.addCookies([
              { name, value, url: app.url, httpOnly: true, sameSite: "Lax" },
            ]);
          }
          const page = await context.newPage();
          await page.goto(`${app.url}${path}`);
          await page.waitForLoadState("networkidle");
          const submission = submit?.(ids);
          if (submission) {
            for (const [field, value] of Object.entries(submission.fields))
              await page.fill(field, value);
            await page.getByRole("button", { name: submission.button }).click();
            await page.waitForLoadState("networkidle");
          }
          const answer = submission ? " (answer)" : "";
          const axe = new AxeBuilder({ page }).withTags([
            "wcag2a",
            "wcag2aa",
            "wcag21a",
            "wcag21aa",
          ]);
          // Swagger UI's own markup (an operation's summary is a button inside
          // a button; its method badges' contrast) is the renderer's to fix;
          // the page around it is checked.
          if (path === "/docs") axe.exclude("#api");
          const results = await axe.analyze();
          for (const violation of results.violations) {
            if (violation.impact === "serious" || violation.impact === "critical") {
              const where = violation.nodes.map((n) => n.target.join(" ")).join("; ");
              found.push(
                `${as} ${path}${answer} @${width} ${colorScheme}: ${violation.id} (${violation.impact}) at ${where}`,
              );
            }
          }
          const scroll = (await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth",
          )) as number;
          if (scroll > 0)
            found.push(
              `${as} ${path}${answer} @${width} ${colorScheme}: scrolls ${scroll} px sideways`,
            );
          const name = `${as}${path
            .replace(member.user.id, "user")
            .replace(waiting.user.id, "waiting-user")
            .replace(client.clientId, "client")
            .replace(/[^a-z0-9]+/gi, "-")}${submission ? "-answer" : ""}`.replace(/-$/, "");
          await page.screenshot({
            path: join(artifacts, `a11y-${name}-${width}-${colorScheme}.png`),
            fullPage: true,
          });
          await context.close();
        }
        expect(found).toEqual([]);
      },
      // Under load on two shared cores one pass has taken close to 180 s.
      300_000,
    );
  }
