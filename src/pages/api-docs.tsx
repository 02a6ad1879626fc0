import { Hono } from "hono";
import type { AppEnv } from "../http/app-env.ts";
import { type ApiRoute, buildOpenApiDocument } from "../http/openapi.ts";

export const apiDocsApi: ApiRoute[] = [
  {
    method: "get",
    path: "/openapi.json",
    summary: "This API as an OpenAPI 3.1 document",
    tag: "meta",
    access: "anyone",
    responses: { 200: { description: "The document" } },
  },
  {
    method: "get",
    path: "/docs",
    summary: "This API as a readable reference page",
    tag: "meta",
    access: "anyone",
    responses: { 200: { description: "HTML", contentType: "text/html" } },
  },
];

type Operation = {
  summary: string;
  description: string;
  parameters?: { name: string; in: string; required: boolean }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
};

/** GET /openapi.json and a server-rendered reference at /docs (no script, no CDN). */
export function apiDocsRoutes({
  routes,
  publicUrl,
}: {
  routes: readonly ApiRoute[];
  publicUrl: string;
}) {
  const document = buildOpenApiDocument(routes, publicUrl);
  const body = JSON.stringify(document);
  const app = new Hono<AppEnv>();

  app.get("/openapi.json", (c) => c.body(body, 200, { "content-type": "application/json" }));

  app.get("/docs", (c) =>
    c.html(
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <title>Gatehouse API</title>
          <style>{`body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2433}
h2{border-bottom:1px solid #dde;padding-bottom:.3rem;margin-top:2.5rem}
.op{border:1px solid #dde;border-radius:6px;padding:.6rem 1rem;margin:.8rem 0}
.m{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}
code,pre{font:13px ui-monospace,monospace}pre{background:#f6f7f9;padding:.6rem;overflow:auto;border-radius:4px}
details summary{cursor:pointer;color:#456}.muted{color:#667}`}</style>
        </head>
        <body>
          <h1>Gatehouse API</h1>
          <p class="muted">
            Errors are <code>application/problem+json</code> (RFC 9457). Machine-readable:{" "}
            <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).
          </p>
          {[...new Set(routes.map((r) => r.tag))].map((tag) => (
            <section>
              <h2>{tag}</h2>
              {Object.entries(document.paths)
                .flatMap(([path, operations]) =>
                  Object.entries(operations as Record<string, Operation>).map(([method, op]) => ({
                    path,
                    method,
                    op,
                  })),
                )
                .filter(({ path, method }) =>
                  routes.some(
                    (r) =>
                      r.tag === tag &&
                      r.method === method &&
                      r.path.replace(/:(\w+)/g, "{$1}") === path,
                  ),
                )
                .map(({ path, method, op }) => (
                  <div class="op">
                    <div>
                      <span class="m">{method}</span> <code>{path}</code> — {op.summary}{" "}
                      <span class="muted">({op.description})</span>
                    </div>
                    {op.parameters && (
                      <div class="muted">
                        Parameters:{" "}
                        {op.parameters
                          .map((p) => `${p.name} (${p.in}${p.required ? ", required" : ""})`)
                          .join(", ")}
                      </div>
                    )}
                    {op.requestBody && (
                      <details>
                        <summary>Request body</summary>
                        <pre>
                          {JSON.stringify(
                            op.requestBody.content["application/json"]?.schema,
                            null,
                            2,
                          )}
                        </pre>
                      </details>
                    )}
                    <details>
                      <summary>Responses: {Object.keys(op.responses).join(", ")}</summary>
                      {Object.entries(op.responses).map(([status, response]) => (
                        <div>
                          <strong>{status}</strong> {response.description}
                          {response.content && (
                            <pre>
                              {JSON.stringify(Object.values(response.content)[0]?.schema, null, 2)}
                            </pre>
                          )}
                        </div>
                      ))}
                    </details>
                  </div>
                ))}
            </section>
          ))}
        </body>
      </html>,
    ),
  );

  return app;
}
