import { expect, test } from "bun:test";
import { ApiRoutes, operation, operationsOf } from "../src/http/api-route.ts";
import { handleError } from "../src/http/error-handler.ts";
import { buildOpenApiDocument } from "../src/http/openapi.ts";

const ping = operation("GET /ping", "ping", {
  summary: "Ping",
  tag: "meta",
  access: "anyone",
  responses: { 200: { description: "Pong" } },
});

test("a route declared twice is refused when it is registered", () => {
  const routes = new ApiRoutes().add(ping, (c) => c.text("pong"));
  expect(() => routes.add(ping, (c) => c.text("pong"))).toThrow("get /ping is declared twice");
});

test("two operations with one operationId cannot make a document", () => {
  const other = { ...ping, path: "/ping2" };
  expect(() => buildOpenApiDocument([ping, other], "http://localhost")).toThrow(
    "operationId ping is used twice",
  );
});

test("a declared route is served behind the gate its access names", async () => {
  const routes = new ApiRoutes().add({ ...ping, access: "admin" }, (c) => c.text("pong"));
  // No authenticate middleware runs here: nobody is signed in, so the admin gate refuses.
  routes.hono.onError(handleError);
  const answer = await routes.hono.request("/ping");
  expect(await answer.text()).toContain("Sign in first");
  expect(routes.operations.map((o) => o.operationId)).toEqual(["ping"]);
});

test("an operation's route string gives its method and path", () => {
  expect(operation("DELETE /admin/users/:id", "deleteUser", ping)).toMatchObject({
    method: "delete",
    path: "/admin/users/:id",
  });
});

test("operations declared together share a tag and an access level, which one of them may override", () => {
  const metaOperation = operationsOf({ tag: "meta", access: "signed-in" });
  const responses = { 200: { description: "Pong" } };
  const shared = metaOperation("GET /a", "a", { summary: "A", responses });
  const own = metaOperation("GET /b", "b", {
    summary: "B",
    access: "admin",
    responses,
  });
  expect(shared).toMatchObject({ tag: "meta", access: "signed-in" });
  expect(own).toMatchObject({ tag: "meta", access: "admin" });
});
