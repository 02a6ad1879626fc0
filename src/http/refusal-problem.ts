import {
  LastAdministrator,
  NoSignInMethodLeft,
  NotLinked,
  RecentSignInRequired,
  Refusal,
  RuleExists,
  RuleNotFound,
  UserNotFound,
  UsernameTaken,
} from "../users/refusals.ts";
import { Problem } from "./problem.ts";

/** The one place account refusals become HTTP problems. */
export function refusalProblem(refusal: Refusal): Problem {
  if (refusal instanceof UserNotFound || refusal instanceof RuleNotFound)
    return new Problem(404, "Not Found", refusal.message);
  if (refusal instanceof NotLinked) return new Problem(404, "Not Found", refusal.message);
  if (refusal instanceof LastAdministrator)
    return new Problem(409, "Conflict", refusal.message, {
      type: "urn:gatehouse:problem:last-admin",
    });
  if (refusal instanceof NoSignInMethodLeft)
    return new Problem(409, "Conflict", refusal.message, {
      type: "urn:gatehouse:problem:last-sign-in-method",
    });
  if (refusal instanceof UsernameTaken || refusal instanceof RuleExists)
    return new Problem(409, "Conflict", refusal.message);
  if (refusal instanceof RecentSignInRequired)
    return new Problem(403, "Forbidden", refusal.message, {
      type: "urn:gatehouse:problem:reauthentication-required",
    });
  return new Problem(409, "Conflict", refusal.message);
}

/** Awaits domain work, rethrowing a refusal as its problem. */
export async function refusalsAsProblems<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof Refusal) throw refusalProblem(error);
    throw error;
  }
}
