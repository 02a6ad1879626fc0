import { expect, test } from "bun:test";
import { appTestSetup } from "./support/app.ts";
import { documentedAnswerChecker, type OpenApiDocument } from "./support/documented-answers.ts";
import { apiRequest } from "./support/requests.ts";
import { signedInUser } from "./support/sign-in.ts";

// What a generated client believes, checked against what the running app
// answers: live responses validated with the schemas the served document
// gives them (output schemas refuse unknown fields, so a field added to an
// answer but not to its schema fails too).

const { db, app } = await appTestSetup();

const check = documentedAnswerChecker(
  (await (await app.request("/openapi.json")).json()) as OpenApiDocument,
);

const admin = await signedInUser(db.pool, app.config, { role: "admin", isWhitelisted: true });
const member = await signedInUser(db.pool, app.config, { isWhitelisted: true });

async function answerMatches(
  method: string,
  path: string,
  documentedPath: string,
  { cookie, body }: { cookie?: string; body?: unknown } = {},
) {
  const response = await apiRequest(app, method, path, { cookie, body });
  const json: unknown = await response.json();
  const answer = {
    method,
    path: documentedPath,
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: json,
  };
  expect(check(answer), `${method} ${path}: ${JSON.stringify(json)}`).toEqual([]);
  return json;
}

test("user, session and provider answers match their documented schemas", async () => {
  await answerMatches("get", "/me", "/me", { cookie: member.cookie });
  await answerMatches("patch", "/me", "/me", { cookie: member.cookie, body: { full_name: "Ada" } });
  await answerMatches("get", "/me/sessions", "/me/sessions", { cookie: member.cookie });
  await answerMatches("get", "/me/accounts", "/me/accounts", { cookie: member.cookie });
  await answerMatches("get", "/auth/providers", "/auth/providers");
  await answerMatches("get", "/.well-known/jwks.json", "/.well-known/jwks.json");
  await answerMatches("get", "/healthz", "/healthz");
  await answerMatches("get", "/readyz", "/readyz");
});

test("administration answers match their documented schemas", async () => {
  const cookie = admin.cookie;
  const rule = { kind: "domain", value: "example.net" };
  await answerMatches("post", "/admin/allowlist", "/admin/allowlist", { cookie, body: rule });
  await answerMatches("get", "/admin/allowlist", "/admin/allowlist", { cookie });
  await answerMatches("get", "/admin/users", "/admin/users", { cookie });
  const one = `/admin/users/${member.user.id}`;
  await answerMatches("get", one, "/admin/users/{id}", { cookie });
  await answerMatches("patch", one, "/admin/users/{id}", { cookie, body: { role: "user" } });
  await answerMatches("post", `${one}/sessions/revoke`, "/admin/users/{id}/sessions/revoke", {
    cookie,
  });
  const audit = (await answerMatches("get", "/admin/audit", "/admin/audit", { cookie })) as {
    events: unknown[];
  };
  expect(audit.events.length).toBeGreaterThan(0);
});

test("refusals match the shared Problem schema", async () => {
  await answerMatches("get", "/me", "/me");
  await answerMatches("get", "/admin/users", "/admin/users", { cookie: member.cookie });
  await answerMatches("patch", "/admin/users/not-a-uuid", "/admin/users/{id}", {
    cookie: admin.cookie,
    body: { role: "user" },
  });
  await answerMatches("post", "/admin/allowlist", "/admin/allowlist", {
    cookie: admin.cookie,
    body: { kind: "email", value: "not an address" },
  });
});
