import type { Context } from "hono";
import type { Child } from "hono/jsx";
import { z } from "zod";
import { DomainError } from "../errors.ts";
import type { AppEnv } from "./app-env.ts";
import { problemOf } from "./error-map.ts";
import type { Problem } from "./problem.ts";

// The account pages' forms post to the JSON routes' own URLs: these helpers
// tell a form post from a JSON request and answer each in its own language.

/** A browser form (HTML in, HTML out); anything else is the JSON API. */
export function isFormPost(c: Context): boolean {
  const type = c.req.header("content-type")?.split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/x-www-form-urlencoded" || type === "multipart/form-data";
}

/**
 * Runs a POST route; a refused form post gets its page again with the
 * problem shown (same status and headers), a JSON request the problem+json.
 */
export async function answering(
  c: Context<AppEnv>,
  formPage: (problem: Problem) => Child,
  run: (form: boolean) => Promise<Response>,
): Promise<Response> {
  const form = isFormPost(c);
  try {
    return await run(form);
  } catch (error) {
    if (!(form && error instanceof DomainError)) throw error;
    const problem = problemOf(error);
    return refusalPage(c, problem, formPage(problem));
  }
}

/** A form's page again, showing `problem`: its status and headers, never cached. */
export const refusalPage = (c: Context, problem: Problem, page: Child) =>
  c.html(page as string, problem.status, { "cache-control": "no-store", ...problem.extra.headers });

/** One text field of a form post ("" otherwise), read before the body is validated. */
export async function formField(c: Context, name: string): Promise<string> {
  if (!isFormPost(c)) return "";
  try {
    const value = (await c.req.parseBody())[name];
    return typeof value === "string" ? value : "";
  } catch {
    return ""; // a malformed form is refused by readBody in a moment
  }
}

/** A mail link's token fit to put back into a page ("" otherwise). */
export const linkToken = (value: string) => (/^[A-Za-z0-9_-]{1,100}$/.test(value) ? value : "");

/** The `?token=` of a mail link's page. */
export const tokenOf = (c: Context) => linkToken(c.req.query("token") ?? "");

/** An HTML page; never kept by a cache, since pages may carry a mail link's token. */
export const htmlPage = (c: Context, node: Child, status: 200 | 201 | 202 = 200) =>
  c.html(node as string, status, { "cache-control": "no-store" });

/** How a page form's body is sent, as its operation documents it. */
export const formMediaTypes = ["application/x-www-form-urlencoded"] as const;

/** An HTML answer, as an operation documents it. */
export const htmlResponse = (description: string) => ({
  description,
  contentType: "text/html",
  body: z.string(),
});

/** Runs a page's form; a refusal shows the page again, as it now is, with the reason. */
export async function pageAgainIfRefused(
  c: Context,
  pageShowing: (problem: Problem) => Promise<Child>,
  run: () => Promise<Response>,
): Promise<Response> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    const problem = problemOf(error);
    return refusalPage(c, problem, await pageShowing(problem));
  }
}
