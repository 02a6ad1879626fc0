import { z } from "zod";

// OpenAPI 3.1 from the same zod schemas the routes validate with. OpenAPI 3.1
// speaks JSON Schema 2020-12, which zod 4 emits itself (z.toJSONSchema), so no
// generator library sits between the schemas and the document.

export type ApiRoute = {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** Hono-style path: `/admin/users/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** Who may call it; public routes say "anyone". */
  access: "anyone" | "signed-in" | "gated" | "admin" | "client";
  query?: z.ZodObject;
  /** JSON request body (forms with the same fields are accepted where noted). */
  body?: z.ZodType;
  responses: Record<number, { description: string; body?: z.ZodType; contentType?: string }>;
};

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ pointer: z.string(), detail: z.string() })).optional(),
    request_id: z.string().optional(),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details" });

const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

function jsonSchema(schema: z.ZodType, io: "input" | "output") {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    target: "draft-2020-12",
  }) as Record<string, unknown>;
  return rest;
}

const securityFor: Record<ApiRoute["access"], { [scheme: string]: string[] }[] | undefined> = {
  anyone: undefined,
  client: undefined,
  "signed-in": [{ sessionCookie: [] }, { bearer: [] }],
  gated: [{ sessionCookie: [] }, { bearer: [] }],
  admin: [{ sessionCookie: [] }, { bearer: [] }],
};

// The refusals every route of an access level can answer, and 400 for any input.
const refusalsFor: Record<ApiRoute["access"], Record<number, string>> = {
  anyone: {},
  client: {},
  "signed-in": { 401: "Not signed in" },
  gated: { 401: "Not signed in", 403: "Not approved yet, or the account is not active" },
  admin: { 401: "Not signed in", 403: "Not an administrator" },
};

export function buildOpenApiDocument(routes: readonly ApiRoute[], publicUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const parameters = [
      ...[...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({
        name: m[1],
        in: "path",
        required: true,
        schema: { type: "string" },
      })),
      ...Object.entries(route.query?.shape ?? {}).map(([name, schema]) => ({
        name,
        in: "query",
        required: !(schema as z.ZodType).safeParse(undefined).success,
        schema: jsonSchema(schema as z.ZodType, "input"),
      })),
    ];
    const declared: ApiRoute["responses"] = {};
    for (const [status, description] of Object.entries(refusalsFor[route.access])) {
      declared[Number(status)] = { description };
    }
    if (route.body || route.query) declared[400] = { description: "Invalid input" };
    Object.assign(declared, route.responses);
    const responses = Object.fromEntries(
      Object.entries(declared).map(([status, response]) => {
        const body = response.body ?? (Number(status) >= 400 ? problemSchema : undefined);
        const contentType =
          response.contentType ??
          (Number(status) >= 400 ? "application/problem+json" : "application/json");
        return [
          status,
          {
            description: response.description,
            ...(body ? { content: { [contentType]: { schema: jsonSchema(body, "output") } } } : {}),
          },
        ];
      }),
    );
    paths[toOpenApiPath(route.path)] ??= {};
    (paths[toOpenApiPath(route.path)] as Record<string, unknown>)[route.method] = {
      summary: route.summary,
      tags: [route.tag],
      description: `Access: ${route.access}.`,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(route.body
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: jsonSchema(route.body, "input") } },
            },
          }
        : {}),
      responses,
      ...(securityFor[route.access] ? { security: securityFor[route.access] } : {}),
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Gatehouse",
      version: "1",
      description:
        "Self-hosted authentication: sessions, tokens, an allowlist gate and an audit trail.",
    },
    servers: [{ url: publicUrl }],
    paths,
    components: {
      securitySchemes: {
        sessionCookie: { type: "apiKey", in: "cookie", name: "gatehouse_session" },
        bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
      },
    },
  };
}
