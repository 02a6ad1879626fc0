import type { Context, MiddlewareHandler } from "hono";
import type { DatabasePool } from "slonik";
import { z } from "zod";
import { DomainError, type ErrorCode } from "../../errors.ts";
import type { AppEnv, Principal } from "../../http/app-env.ts";
import { errorMessage } from "../../http/error-map.ts";
import { gateRefusal } from "../../http/gate.ts";
import { readBody } from "../../http/json-body.ts";
import { assertRecentAuthOf } from "../../http/recent-auth.ts";
import { countWaitingUsers } from "../../users/user-list.ts";
import { ConfirmStep } from "../admin/confirm.tsx";
import { flashMessages, type NoticeCode, withFlash } from "../admin/flash.ts";
import { type AdminFrame, type AdminScreen, Layout, RefusalPage } from "../admin/layout.tsx";

// How every admin console route answers: the gate for people (not
// programs), a screen in its frame, and a form's way back
// (POST-redirect-GET, the outcome named by a code).

/**
 * Pages answer people, not programs: anonymous visitors are sent to sign in,
 * signed-in non-admins get a readable 403 without the admin navigation.
 */
export function requireAdminPage(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get("principal");
    if (!principal) {
      if (c.req.method === "GET")
        return c.redirect(`/?redirect_to=${encodeURIComponent(c.req.path)}`, 302);
      throw new DomainError("not_signed_in");
    }
    const refusal =
      gateRefusal(principal) ??
      (principal.user.role !== "admin" ? errorMessage("admin_only") : null);
    if (refusal) return c.html(<RefusalPage status={403} message={refusal} />, 403);
    await next();
  };
}

/** What the last form post's redirect says, and where the step-up comes back to. */
export function flashOf(c: Context<AppEnv>) {
  const error = c.req.query("error");
  return {
    ...flashMessages({ notice: c.req.query("notice"), error }),
    ...(error === "reauth_required" ? { reauthBack: c.req.path } : {}),
  };
}

/** The header's facts: who is signed in, how many wait. */
export async function frameOf(
  c: Context<AppEnv>,
  pool: DatabasePool,
  screen?: AdminScreen,
): Promise<AdminFrame> {
  const { user } = c.get("principal") as Principal;
  return {
    adminName: user.full_name ?? user.email ?? "administrator",
    pendingCount: await countWaitingUsers(pool),
    ...(screen ? { screen } : {}),
  };
}

/** A screen for something that is not there (404). */
export async function notFoundScreen(c: Context<AppEnv>, pool: DatabasePool, message: string) {
  return c.html(
    <Layout title="Not found" frame={await frameOf(c, pool)}>
      <section>
        <p>{message}</p>
      </section>
    </Layout>,
    404,
  );
}

/** The second step of a destructive form: without confirmed=yes it only asks. */
export const confirmation = z.object({ confirmed: z.literal("yes").optional() });

/** Runs a form's change and goes back to `back`, saying it was done or why it was refused. */
export async function changeThenBack(
  c: Context<AppEnv>,
  back: string,
  notice: NoticeCode,
  change: () => Promise<unknown>,
): Promise<Response> {
  try {
    await change();
  } catch (error) {
    if (error instanceof DomainError)
      return c.redirect(withFlash(back, { error: error.code }), 303);
    throw error;
  }
  return c.redirect(withFlash(back, { notice }), 303);
}

/** The query string without its empty fields: an untouched filter means no filter. */
export const filledQuery = (c: Context) =>
  Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== ""));

/** A filter's refusal in words, for the page that shows it (400). */
function invalidFilters(error: z.ZodError | DomainError): string {
  if (error instanceof DomainError) return error.details.detail ?? errorMessage(error.code);
  return `Some filters are invalid: ${error.issues
    .map((i) => `${i.path.join(".") || "query"}: ${i.message}`)
    .join("; ")}.`;
}

/** The filter a screen's query asks for, or why it cannot be read (said on the page, with 400). */
export function filterOrProblem<Query, Filter>(
  parsed: z.ZodSafeParseResult<Query>,
  filterOf: (query: Query) => Filter,
): { filter: Filter; problem: null } | { filter: null; problem: string } {
  if (!parsed.success) return { filter: null, problem: invalidFilters(parsed.error) };
  try {
    return { filter: filterOf(parsed.data), problem: null };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { filter: null, problem: invalidFilters(error) };
  }
}

/** The confirmation step of a destructive form, on the screen it belongs to. */
export async function confirmScreen(
  c: Context<AppEnv>,
  pool: DatabasePool,
  screen: AdminScreen,
  step: Parameters<typeof ConfirmStep>[0],
  flash: ReturnType<typeof flashOf> | null = null,
) {
  return c.html(
    <Layout title="Are you sure?" frame={await frameOf(c, pool, screen)} {...(flash ?? {})}>
      <ConfirmStep {...step} />
    </Layout>,
  );
}

/**
 * A destructive form's post about the thing its `:id` names: without
 * confirmed=yes it only asks (to `confirmHref`); confirmed, the change runs
 * after the recent sign-in check and the form goes back to `back`. An id
 * that is no UUID names nothing: `missing`.
 */
export async function confirmedChange<Form extends z.ZodType<{ confirmed?: "yes" | undefined }>>(
  c: Context<AppEnv>,
  form: Form,
  step: {
    confirmHref: (id: string) => string;
    back: string;
    notice: NoticeCode;
    missing: ErrorCode;
  },
  change: (id: string, form: z.infer<Form>) => Promise<unknown>,
): Promise<Response> {
  const id = z.uuid().safeParse(c.req.param("id"));
  const fields = await readBody(c, form);
  if (id.success && fields.confirmed !== "yes") return c.redirect(step.confirmHref(id.data), 303);
  return changeThenBack(c, step.back, step.notice, async () => {
    await assertRecentAuthOf(c);
    if (!id.success) throw new DomainError(step.missing);
    await change(id.data, fields);
  });
}
