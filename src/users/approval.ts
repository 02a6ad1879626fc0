import type { Config } from "../config/index.ts";
import type { Mailer } from "../mail/mailer.ts";
import { accountApprovedMail, accountDeniedMail } from "../mail/templates.ts";
import { deliverLater } from "../password/account-mail.ts";
import {
  type Actor,
  type AdminDeps,
  applyUserChange,
  type UserDecision,
  wasApproved,
} from "./administration.ts";

// An administrator's decision from the API or the admin page: the change,
// then, once it is committed, the user told when it approved or denied them
// (an approval with a link to the app, a denial with the reason).

export type DecisionDeps = AdminDeps & { mailer: Mailer; config: Pick<Config, "http" | "access"> };

export async function decideOnUser(
  deps: DecisionDeps,
  actor: Actor,
  targetId: string,
  decision: UserDecision,
) {
  const { before, after } = await applyUserChange(deps, actor, targetId, decision);
  const facts = { ip: actor.ip, userAgent: actor.userAgent };
  if (after.email && wasApproved(before, after)) {
    const appUrl = deps.config.access.APPROVED_REDIRECT_URL ?? `${deps.config.http.PUBLIC_URL}/`;
    deliverLater(
      deps,
      {
        to: after.email,
        content: accountApprovedMail(appUrl),
        userId: after.id,
        purpose: "approved_notice",
      },
      facts,
    );
  }
  if (after.email && decision.status === "denied" && decision.reason) {
    deliverLater(
      deps,
      {
        to: after.email,
        content: accountDeniedMail(decision.reason),
        userId: after.id,
        purpose: "denied_notice",
      },
      facts,
    );
  }
  return after;
}
