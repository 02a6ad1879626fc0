import type { Context } from "hono";
import { z } from "zod";
import type { AuditedDeps } from "../audit.ts";
import type { Config } from "../config/index.ts";
import { DomainError } from "../errors.ts";
import { revokeDevice } from "../users/devices.ts";
import type { AppEnv, Principal } from "./app-env.ts";
import { requestAuditFields } from "./audit-fields.ts";
import { clearSessionCookie } from "./session-cookie.ts";

const sessionId = z.uuid();

/**
 * Revokes one of the caller's devices (`DELETE /me/sessions/:id`, the
 * account page's Revoke). 404 alike for a malformed id, a missing one and
 * another user's: no probing. Revoking the browser's own session clears its
 * cookie; returns whether it was that one.
 */
export async function revokeCallersDevice(
  c: Context<AppEnv>,
  deps: AuditedDeps & { config: Pick<Config, "http" | "session"> },
  id: string | undefined,
): Promise<{ current: boolean }> {
  const principal = c.get("principal") as Principal;
  const parsed = sessionId.safeParse(id);
  const revoked =
    parsed.success &&
    (await revokeDevice(deps, principal.user.user_id, parsed.data, requestAuditFields(c)));
  if (!revoked) throw new DomainError("session_not_found");
  const current = principal.via === "cookie" && parsed.data === principal.sessionId;
  if (current) clearSessionCookie(c, deps.config);
  return { current };
}
