import {
  BackendTerminatedError,
  BackendTerminatedUnexpectedlyError,
  ConnectionError,
} from "slonik";

// SQLSTATE class 08 (connection exception), the server shutting down or
// starting up, and a full connection table: the database cannot serve us
// right now, which a retry a few seconds later may not share.
const unavailableSqlStates = /^(08...|57P0[123]|53300)$/;
const unavailableSocketCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENOTFOUND",
]);

/**
 * Whether an error means PostgreSQL is unreachable or unavailable (as
 * opposed to a bug or bad data): such a request deserves 503 and a retry,
 * not 500. Follows `cause`, since slonik and our domain code wrap errors.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (
      e instanceof ConnectionError ||
      e instanceof BackendTerminatedError ||
      e instanceof BackendTerminatedUnexpectedlyError
    ) {
      return true;
    }
    const code = (e as { code?: unknown }).code;
    if (
      typeof code === "string" &&
      (unavailableSqlStates.test(code) || unavailableSocketCodes.has(code))
    ) {
      return true;
    }
    if (/^Connection terminated/.test(e.message)) return true;
  }
  return false;
}
