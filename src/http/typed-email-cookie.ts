import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Config } from "../config/index.ts";

// A refused sign-in form is answered with a redirect to the sign-in page
// (POST-redirect-GET: a refresh asks again instead of re-sending the
// password). The address the person typed rides along in this short-lived
// cookie, not in the URL, where it would reach access logs and history.

const name = "gatehouse_typed_email";
const path = "/";

/** Keeps `email` for the sign-in page the browser is sent to next (a minute). */
export function keepTypedEmail(c: Context, config: Pick<Config, "http">, email: string): void {
  if (!email || email.length > 320) return;
  setCookie(c, name, email, {
    path,
    httpOnly: true,
    secure: config.http.PUBLIC_URL.startsWith("https:"),
    sameSite: "Strict",
    maxAge: 60,
  });
}

/** The kept address, once: reading it clears it. */
export function takeTypedEmail(c: Context): string | undefined {
  const email = getCookie(c, name);
  if (email === undefined) return undefined;
  deleteCookie(c, name, { path });
  return email;
}
