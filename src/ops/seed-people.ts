import type { NewUser, UserStatus } from "../../sql/users.ts";

// The development users: one per state a user can be in (admin, active,
// unverified, pending approval, inactive, locked, deleted, signed up with
// GitHub or Google). Their other records are in seed-records.ts.

export const seedDomain = "gatehouse.test";
export const seedAdminEmail = `admin@${seedDomain}`;

const hour = 3_600_000;

export type SeedUser = NewUser & {
  key: string;
  withPassword: boolean;
  state?: {
    status: UserStatus;
    lockedUntil?: Date;
    failedLoginAttempts?: number;
    lockoutCount?: number;
  };
};

/** The users, with lock times counted from now. */
export function seedPeople(): SeedUser[] {
  const at = (offsetMs: number) => new Date(Date.now() + offsetMs);
  return [
    {
      key: "admin",
      email: seedAdminEmail,
      emailVerified: true,
      fullName: "Ada Admin",
      role: "admin",
      isWhitelisted: true,
      withPassword: true,
    },
    {
      key: "active",
      email: `alice@${seedDomain}`,
      emailVerified: true,
      fullName: "Alice Active",
      isWhitelisted: true,
      withPassword: true,
    },
    {
      key: "unverified",
      email: `bob@${seedDomain}`,
      emailVerified: false,
      fullName: "Bob Unverified",
      withPassword: true,
    },
    {
      key: "pending",
      email: `carol@${seedDomain}`,
      emailVerified: true,
      fullName: "Carol Pending",
      withPassword: true,
    },
    {
      key: "inactive",
      email: `dave@${seedDomain}`,
      emailVerified: true,
      fullName: "Dave Inactive",
      isWhitelisted: true,
      withPassword: true,
      state: { status: "inactive" },
    },
    {
      key: "locked",
      email: `erin@${seedDomain}`,
      emailVerified: true,
      fullName: "Erin Locked",
      isWhitelisted: true,
      withPassword: true,
      state: { status: "locked", lockedUntil: at(hour), failedLoginAttempts: 5, lockoutCount: 1 },
    },
    {
      key: "deleted",
      email: null,
      emailVerified: false,
      fullName: null,
      withPassword: false,
      state: { status: "deleted" },
    },
    {
      key: "github",
      email: `grace@${seedDomain}`,
      emailVerified: true,
      fullName: "Grace GitHub",
      username: "grace-gh",
      isWhitelisted: true,
      withPassword: false,
    },
    {
      key: "google",
      email: `gus@${seedDomain}`,
      emailVerified: true,
      fullName: "Gus Google",
      isWhitelisted: true,
      withPassword: true,
    },
  ];
}
