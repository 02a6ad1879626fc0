import { type Handler, Hono, type MiddlewareHandler } from "hono";
import type { z } from "zod";
import type { AppEnv } from "./app-env.ts";
import { requireAdmin, requireGated, requireSignedIn } from "./gate.ts";
import { requireRecentAuth } from "./recent-auth.ts";

// A JSON route is declared once: the declaration registers the handler
// behind the gate its `access` names and is what /openapi.json describes, so
// a route cannot be served undocumented or documented with another gate.

/**
 * Who may call an operation. It picks the gate middleware and the
 * document's `security`; "metrics-token" is checked by its handler because
 * the token is optional configuration.
 */
export type Access = "anyone" | "metrics-token" | "signed-in" | "gated" | "admin";

export type ApiResponse = {
  description: string;
  /** Omitted for a 4xx/5xx: the shared Problem schema. */
  body?: z.ZodType;
  /** Defaults: application/json, or application/problem+json for a 4xx/5xx. */
  contentType?: string;
};

export type ApiOperation = {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** Hono-style path: `/admin/users/:id`. */
  path: string;
  /** Stable: generated clients name their methods after it. */
  operationId: string;
  summary: string;
  tag: string;
  access: Access;
  /**
   * The handler answers a caller without access itself (a form page offers
   * to sign in) rather than the gate middleware; documented the same.
   */
  accessCheckedByHandler?: true;
  /**
   * The caller must have signed in or stepped up within REAUTH_MAX_AGE
   * (src/http/recent-auth.ts), else 401 `reauth_required`. Every admin write
   * (POST, PUT, PATCH, DELETE with access "admin") needs it without saying.
   * "checked-by-handler": the handler checks (assertRecentAuthOf) so that a
   * form page can show the refusal; documented the same.
   */
  recentAuth?: boolean | "checked-by-handler";
  query?: z.ZodObject;
  /** Request body (forms with the same fields are accepted where noted). */
  body?: z.ZodType;
  /** How the body may be sent; application/json unless said otherwise. */
  bodyMediaTypes?: readonly string[];
  responses: Record<number, ApiResponse>;
};

const gates: Record<Access, (() => MiddlewareHandler<AppEnv>) | null> = {
  anyone: null,
  "metrics-token": null,
  "signed-in": requireSignedIn,
  gated: requireGated,
  admin: requireAdmin,
};

/** A set of declared operations and the Hono app that serves them; mount it with `app.route("/", routes.hono)`. */
export class ApiRoutes {
  readonly hono = new Hono<AppEnv>();
  readonly operations: ApiOperation[] = [];

  /** Registers `handler` for the operation behind its gate, and records the operation for the document. */
  add<P extends string>(operation: ApiOperation & { path: P }, handler: Handler<AppEnv, P>): this {
    const key = `${operation.method} ${operation.path}`;
    if (this.operations.some((o) => `${o.method} ${o.path}` === key)) {
      throw new Error(`${key} is declared twice`);
    }
    const gate = operation.accessCheckedByHandler ? null : gates[operation.access];
    const handlers = [
      ...(gate ? [gate()] : []),
      ...(needsRecentAuth(operation) && operation.recentAuth !== "checked-by-handler"
        ? [requireRecentAuth()]
        : []),
      handler,
    ] as [Handler<AppEnv>];
    this.hono.on(operation.method.toUpperCase(), operation.path, ...handlers);
    this.operations.push(operation);
    return this;
  }
}

/** Whether the operation is behind the recent-auth guard: declared so, or an admin write. */
export function needsRecentAuth(operation: ApiOperation): boolean {
  if (operation.recentAuth !== undefined) return operation.recentAuth !== false;
  return operation.access === "admin" && operation.method !== "get";
}

/** An operation's method and Hono-style path as one string: `"GET /admin/users/:id"`. */
export type Route<P extends string> = `${Uppercase<ApiOperation["method"]>} ${P}`;

type Declared = Omit<ApiOperation, "method" | "path" | "operationId">;

/**
 * Declares the operation `route` names (`operationId` is stable: generated
 * clients name their methods after it), keeping the path's literal type so
 * the handler sees the path's parameters.
 */
export function operation<P extends string>(
  route: Route<P>,
  operationId: string,
  declared: Declared,
): ApiOperation & { path: P } {
  const [method, path] = route.split(" ") as [string, P];
  return { ...declared, method: method.toLowerCase() as ApiOperation["method"], path, operationId };
}

/**
 * Declares operations that share a tag and an access level, as most of a
 * route file's do: `const adminOperation = operationsOf({ tag: "admin", access: "admin" })`.
 * An operation may still name its own tag or access.
 */
export const operationsOf =
  (shared: Pick<ApiOperation, "tag" | "access">) =>
  <P extends string>(
    route: Route<P>,
    operationId: string,
    declared: Omit<Declared, "tag" | "access"> & Partial<Pick<ApiOperation, "tag" | "access">>,
  ) =>
    operation(route, operationId, { ...shared, ...declared });
