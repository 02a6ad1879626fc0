import type { CommonQueryMethods } from "slonik";
import { findSessionAuthenticatedAt } from "../../sql/sessions.ts";
import { DomainError } from "../errors.ts";

// "Recent auth": a sensitive change (a password, a second factor, deleting
// the account, every administrator's write) needs the session's user to
// have proved who they are within REAUTH_MAX_AGE, by a full sign-in or a
// step-up (POST /auth/reauth). A session stolen hours ago then changes
// nothing that would lock its owner out or keep the thief in.
//
// The time is the session's authenticated_at. For a bearer token it is that
// of the session the token was issued from (its `sid`): the token client's
// own session, whose time is its sign-in (the password grant), the browser
// session's when it was exchanged for tokens, or a later step-up made with
// the token. Refreshing tokens never moves it.

/** Throws `reauth_required` unless session `sessionId` was authenticated within `maxAgeMs`. */
export async function assertRecentAuth(
  db: CommonQueryMethods,
  sessionId: string | null,
  maxAgeMs: number,
): Promise<void> {
  const at = sessionId ? await findSessionAuthenticatedAt(db, sessionId) : null;
  if (!at || Date.now() - at.getTime() > maxAgeMs) throw new DomainError("reauth_required");
}
