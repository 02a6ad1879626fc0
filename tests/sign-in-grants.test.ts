import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { upsertAllowlistRule } from "../sql/allowlist-rules.ts";
import { decideSignInGrants } from "../src/gate/sign-in-grants.ts";
import { createTestDatabase } from "./support/database.ts";

const { pool, drop } = await createTestDatabase();
afterAll(drop);

beforeAll(async () => {
  for (const [kind, value] of [
    ["email", "solo@elsewhere.example"],
    ["domain", "team.example"],
    ["github_org", "acme"],
    ["github_team", "widgets/core"],
  ] as const) {
    await upsertAllowlistRule(pool, { kind, value, createdBy: null });
  }
});

const admins = ["boss@else.example"];

describe("sign-in grants", () => {
  test("a verified email matching an email or domain rule is whitelisted", async () => {
    const byEmail = await decideSignInGrants(pool, admins, {
      email: "Solo@Elsewhere.example",
      emailVerified: true,
    });
    expect(byEmail).toMatchObject({ whitelisted: true, bootstrapAdmin: false });
    expect(byEmail.rule?.kind).toBe("email");
    const byDomain = await decideSignInGrants(pool, admins, {
      email: "anyone@TEAM.example",
      emailVerified: true,
    });
    expect(byDomain.rule?.kind).toBe("domain");
  });

  test("an unverified email matches no rule and makes no admin", async () => {
    expect(
      await decideSignInGrants(pool, admins, {
        email: "anyone@team.example",
        emailVerified: false,
      }),
    ).toEqual({ whitelisted: false, bootstrapAdmin: false, rule: null });
    expect(
      await decideSignInGrants(pool, admins, { email: "boss@else.example", emailVerified: false }),
    ).toEqual({ whitelisted: false, bootstrapAdmin: false, rule: null });
  });

  test("a sub-domain does not match its parent's domain rule", async () => {
    const grants = await decideSignInGrants(pool, admins, {
      email: "a@evil.team.example",
      emailVerified: true,
    });
    expect(grants.whitelisted).toBe(false);
  });

  test("GitHub organisation and team memberships match their rules", async () => {
    // A GitHub account with no usable email: only its memberships can match.
    const membersOf = (githubOrgs: string[], githubTeams?: string[]) =>
      decideSignInGrants(pool, admins, {
        email: null,
        emailVerified: false,
        githubOrgs,
        ...(githubTeams ? { githubTeams } : {}),
      });
    const org = await membersOf(["other", "ACME"]);
    expect(org.rule?.kind).toBe("github_org");
    const team = await membersOf(["widgets"], ["widgets/core"]);
    expect(team.rule?.kind).toBe("github_team");
    const none = await membersOf(["widgets"], ["widgets/other"]);
    expect(none.whitelisted).toBe(false);
  });

  test("a verified ADMIN_EMAILS address is a whitelisted bootstrap admin", async () => {
    expect(
      await decideSignInGrants(pool, admins, { email: "Boss@Else.example", emailVerified: true }),
    ).toEqual({ whitelisted: true, bootstrapAdmin: true, rule: null });
  });
});
