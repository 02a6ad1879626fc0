import { z } from "zod";
import { errorCodes } from "../errors.ts";
import { type Access, type ApiOperation, needsRecentAuth } from "./api-route.ts";
import { componentSchemas } from "./openapi-components.ts";

// OpenAPI 3.1 from the same zod schemas the routes validate with. OpenAPI 3.1
// speaks JSON Schema 2020-12, which zod 4 emits itself (z.toJSONSchema), so no
// generator library sits between the schemas and the document.

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    code: z
      .enum(errorCodes)
      .meta({ description: "Stable machine-readable code: switch on this (docs/errors.md)" }),
    errors: z.array(z.object({ pointer: z.string(), detail: z.string() })).optional(),
    request_id: z.string().optional(),
    reauth_required: z
      .literal(true)
      .optional()
      .meta({ description: "With code reauth_required: step up at POST /auth/reauth, then retry" }),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details" });

const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

const session: Record<string, string[]>[] = [{ sessionCookie: [] }, { bearer: [] }];
const securityFor: Record<Access, { [scheme: string]: string[] }[]> = {
  anyone: [],
  // Optional: /metrics asks for the token only when METRICS_TOKEN is set.
  "metrics-token": [{ metricsToken: [] }, {}],
  "signed-in": session,
  gated: session,
  admin: session,
};

// The refusals every route of an access level can answer.
const refusalsFor: Record<Access, Record<number, string>> = {
  anyone: {},
  "metrics-token": {},
  "signed-in": { 401: "Not signed in" },
  gated: { 401: "Not signed in", 403: "Not approved yet, or the account is not active" },
  admin: { 401: "Not signed in", 403: "Not an administrator" },
};

// In the order a client meets them: signing in first, operations last (the
// order /docs shows them in); a tag missing here goes at the end.
const tagDescriptions: Record<string, string> = {
  auth: "Signing in and out, passwords, email confirmation, providers, forward-auth",
  tokens: "OAuth 2.0 token endpoint, revocation and the public keys",
  openid:
    "Gatehouse as an OpenID Connect provider: discovery, authorization, consent, token, userinfo, logout",
  account: "The signed-in user's own account, profile and devices",
  admin: "Administration: users, allowlist, audit trail, health",
  health: "Liveness and readiness probes",
  operations: "Metrics",
  pages: "HTML pages the mails and forms link to",
  meta: "This document",
  development: "Development only, never mounted in production",
};

export function buildOpenApiDocument(operations: readonly ApiOperation[], publicUrl: string) {
  const schemas = componentSchemas();
  const paths: Record<string, Record<string, unknown>> = {};
  const operationIds = new Set<string>();
  for (const operation of operations) {
    if (operationIds.has(operation.operationId)) {
      throw new Error(`operationId ${operation.operationId} is used twice`);
    }
    operationIds.add(operation.operationId);
    const path = toOpenApiPath(operation.path);
    paths[path] ??= {};
    (paths[path] as Record<string, unknown>)[operation.method] = describe(operation, schemas);
  }
  const order = Object.keys(tagDescriptions);
  const rank = (tag: string) => (order.includes(tag) ? order.indexOf(tag) : order.length);
  const tags = [...new Set(operations.map((o) => o.tag))].sort((a, b) => rank(a) - rank(b));
  return {
    openapi: "3.1.0",
    info: {
      title: "Gatehouse",
      version: "1",
      description:
        "Self-hosted authentication: sessions, tokens, an allowlist gate and an audit trail. Errors are application/problem+json (RFC 9457); the token endpoints answer RFC 6749 errors.",
    },
    servers: [{ url: publicUrl.replace(/\/+$/, "") }],
    tags: tags.map((name) => ({
      name,
      ...(tagDescriptions[name] ? { description: tagDescriptions[name] } : {}),
    })),
    paths,
    components: {
      schemas: schemas.all(),
      securitySchemes: {
        sessionCookie: { type: "apiKey", in: "cookie", name: "gatehouse_session" },
        bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
        metricsToken: { type: "http", scheme: "bearer", description: "METRICS_TOKEN" },
      },
    },
  };
}

function describe(operation: ApiOperation, schemas: ReturnType<typeof componentSchemas>) {
  const parameters = [
    ...[...operation.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    })),
    ...Object.entries(operation.query?.shape ?? {}).map(([name, schema]) => ({
      name,
      in: "query",
      required: !(schema as z.ZodType).safeParse(undefined).success,
      schema: schemas.inline(schema as z.ZodType, "input"),
    })),
  ];
  const declared: ApiOperation["responses"] = {};
  for (const [status, description] of Object.entries(refusalsFor[operation.access])) {
    declared[Number(status)] = { description };
  }
  if (operation.body || operation.query) declared[400] = { description: "Invalid input" };
  if (needsRecentAuth(operation)) {
    declared[401] = {
      description: `${declared[401]?.description ?? "Not signed in"}, or the last sign-in or step-up is older than REAUTH_MAX_AGE (reauth_required: step up at POST /auth/reauth)`,
    };
  }
  Object.assign(declared, operation.responses);
  const responses = Object.fromEntries(
    Object.entries(declared).map(([status, response]) => {
      const failure = Number(status) >= 400;
      const body = response.body ?? (failure ? problemSchema : undefined);
      const contentType =
        response.contentType ?? (failure ? "application/problem+json" : "application/json");
      return [
        status,
        {
          description: response.description,
          ...(body
            ? { content: { [contentType]: { schema: schemas.inline(body, "output") } } }
            : {}),
        },
      ];
    }),
  );
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    tags: [operation.tag],
    description: `Access: ${operation.access}.`,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.body
      ? {
          requestBody: {
            required: true,
            content: Object.fromEntries(
              (operation.bodyMediaTypes ?? ["application/json"]).map((type) => [
                type,
                { schema: schemas.inline(operation.body as z.ZodType, "input") },
              ]),
            ),
          },
        }
      : {}),
    responses,
    security: securityFor[operation.access],
  };
}
