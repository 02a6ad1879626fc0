import type { DatabaseTransactionConnection } from "slonik";
import type { User } from "../../sql/users.ts";
import type { FirstFactor } from "./first-factor.ts";

/**
 * The second-factor step of every sign-in, called by completeSignIn before
 * any session or token exists. No second factor exists yet, so every first
 * factor completes; this is the one place where a required second factor
 * will turn a completed first factor into a pending sign-in.
 */
export async function secondFactorStep(
  _tx: DatabaseTransactionConnection,
  _user: User,
  _factor: FirstFactor,
): Promise<void> {}
