import { type CommonQueryMethods, sql } from "slonik";
import { z } from "zod";
import type { SweptTable } from "./dead-rows.ts";

export const signInDoors = ["browser", "token"] as const;

const identityColumn = z
  .object({
    email: z.string().nullable(),
    emailVerified: z.boolean(),
    githubOrgs: z.array(z.string()).optional(),
    githubTeams: z.array(z.string()).optional(),
  })
  .nullable();

export const pendingSignInRow = z.object({
  id: z.uuid(),
  user_id: z.uuid(),
  method: z.string(),
  door: z.enum(signInDoors),
  identity: identityColumn,
  context: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  created_at: z.date(),
  expires_at: z.date(),
  used_at: z.date().nullable(),
  /** Good only for enrolling a second factor (policy requires one and the user has none). */
  enrolment: z.boolean(),
});
export type PendingSignInRow = z.infer<typeof pendingSignInRow>;

const pendingColumns = sql.fragment`
  id, user_id, method, door, identity, context, created_at, expires_at, used_at, enrolment`;

export type NewPendingSignIn = {
  secretHash: Buffer;
  userId: string;
  method: string;
  door: PendingSignInRow["door"];
  identity: PendingSignInRow["identity"];
  context: PendingSignInRow["context"];
  expiresAt: Date;
  enrolment: boolean;
};

export async function insertPendingSignIn(
  db: CommonQueryMethods,
  pending: NewPendingSignIn,
): Promise<PendingSignInRow> {
  return db.one(sql.type(pendingSignInRow)`
    INSERT INTO pending_sign_ins (secret_hash, user_id, method, door, identity, context, expires_at,
                                  enrolment)
    VALUES (${sql.binary(pending.secretHash)}, ${pending.userId}, ${pending.method}, ${pending.door},
            ${pending.identity ? sql.jsonb(pending.identity) : null}, ${sql.jsonb(pending.context)},
            ${sql.timestamp(pending.expiresAt)}, ${pending.enrolment})
    RETURNING ${pendingColumns}`);
}

/** The unused, unexpired pending sign-in behind a secret, for the door it was made for. */
export async function findLivePendingSignIn(
  db: CommonQueryMethods,
  secretHash: Buffer,
  door: PendingSignInRow["door"],
): Promise<PendingSignInRow | null> {
  return db.maybeOne(sql.type(pendingSignInRow)`
    SELECT ${pendingColumns} FROM pending_sign_ins
    WHERE secret_hash = ${sql.binary(secretHash)} AND door = ${door}
      AND used_at IS NULL AND expires_at > now()`);
}

/**
 * Uses a pending sign-in once: one conditional UPDATE, so of two concurrent
 * completions exactly one gets the row back. `enrolment` must match the
 * row's: one made for enrolling a second factor is finished only that way.
 */
export async function consumePendingSignIn(
  db: CommonQueryMethods,
  id: string,
  userId: string,
  enrolment: boolean,
): Promise<PendingSignInRow | null> {
  return db.maybeOne(sql.type(pendingSignInRow)`
    UPDATE pending_sign_ins SET used_at = now()
    WHERE id = ${id} AND user_id = ${userId} AND enrolment = ${enrolment}
      AND used_at IS NULL AND expires_at > now()
    RETURNING ${pendingColumns}`);
}

/** For cleanup: used or not, a pending sign-in is worthless once expired; kept `cutoff` longer for inspection. */
export const spentPendingSignIns: SweptTable = {
  table: "pending_sign_ins",
  key: "id",
  dead: (cutoff) => sql.fragment`expires_at < ${sql.timestamp(cutoff)}`,
};

/** Ends every pending sign-in of a user (their second factors were reset by an administrator). */
export async function deletePendingSignInsOfUser(
  db: CommonQueryMethods,
  userId: string,
): Promise<number> {
  const result = await db.query(sql.unsafe`
    DELETE FROM pending_sign_ins WHERE user_id = ${userId}`);
  return result.rowCount;
}
