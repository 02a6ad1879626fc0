import { readFileSync } from "node:fs";
import { z } from "zod";
import { type ApiOperation, ApiRoutes } from "../http/api-route.ts";
import { buildOpenApiDocument } from "../http/openapi.ts";
import { staticAsset } from "../http/static-asset.ts";
import { currentBrand, faviconHref } from "./branding.tsx";

// Swagger UI as swagger-ui-dist ships it, and the few lines that start it.
const swaggerUi = (file: string) =>
  readFileSync(new URL(file, import.meta.resolve("swagger-ui-dist/package.json")), "utf8");
const javascript = "text/javascript; charset=utf-8";
const assets = [
  {
    path: "/docs/assets/swagger-ui.css",
    operationId: "getSwaggerUiStylesheet",
    serve: staticAsset(swaggerUi("swagger-ui.css"), "text/css; charset=utf-8"),
  },
  {
    path: "/docs/assets/swagger-ui-bundle.js",
    operationId: "getSwaggerUiScript",
    serve: staticAsset(swaggerUi("swagger-ui-bundle.js"), javascript),
  },
  {
    path: "/docs/assets/api-docs.js",
    operationId: "getApiDocsScript",
    serve: staticAsset(readFileSync(new URL("./api-docs.js", import.meta.url), "utf8"), javascript),
  },
];

type Operation = {
  summary: string;
  tags: string[];
  description: string;
  parameters?: { name: string; in: string; required: boolean }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
};

/**
 * GET /openapi.json and /docs, describing `operations`: every operation the
 * app declared, read at the first request, when the app has mounted them
 * all. /docs is a server-rendered reference that Swagger UI, served from
 * here (no CDN), turns into an interactive one with "Try it out".
 */
export function apiDocsRoutes({
  operations,
  publicUrl,
}: {
  operations: readonly ApiOperation[];
  publicUrl: string;
}) {
  let built: { document: ReturnType<typeof buildOpenApiDocument>; body: string } | null = null;
  const described = () => {
    if (!built) {
      const document = buildOpenApiDocument(operations, publicUrl);
      built = { document, body: JSON.stringify(document) };
    }
    return built;
  };
  const routes = new ApiRoutes();

  routes.add(
    {
      method: "get",
      path: "/openapi.json",
      operationId: "getOpenApiDocument",
      summary: "This API as an OpenAPI 3.1 document",
      tag: "meta",
      access: "anyone",
      responses: { 200: { description: "The document", body: z.looseObject({}) } },
    },
    (c) => c.body(described().body, 200, { "content-type": "application/json" }),
  );

  routes.add(
    {
      method: "get",
      path: "/docs",
      operationId: "getApiReference",
      summary: "This API as a readable reference page",
      tag: "meta",
      access: "anyone",
      responses: { 200: { description: "HTML", contentType: "text/html", body: z.string() } },
    },
    (c) => {
      const { document } = described();
      const brand = currentBrand();
      return c.html(
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <meta name="color-scheme" content="light dark" />
            <title>{`${brand.name} API`}</title>
            <link rel="icon" href={faviconHref(brand)} />
            <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
            <style>{`body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2433}
.reference h2{border-bottom:1px solid #dde;padding-bottom:.3rem;margin-top:2.5rem}
.reference .op{border:1px solid #dde;border-radius:6px;padding:.6rem 1rem;margin:.8rem 0}
.reference .m{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}
.reference code,.reference pre{font:13px ui-monospace,monospace}
.reference pre{background:#f6f7f9;padding:.6rem;overflow:auto;border-radius:4px}
.reference details summary{cursor:pointer;color:#456}.muted{color:#667}
@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}a{color:#4493f8}.muted{color:#9198a1}
.reference h2{border-color:#3d444d}.reference .op{border-color:#3d444d}.reference pre{background:#161b22}.reference details summary{color:#9cc4e4}
#api .swagger-ui{filter:invert(88%) hue-rotate(180deg)}#api .swagger-ui .microlight,#api .swagger-ui img{filter:invert(100%) hue-rotate(180deg)}}`}</style>
          </head>
          <body>
            <h1>{`${brand.name} API`}</h1>
            <p class="muted">
              Errors are <code>application/problem+json</code> (RFC 9457). Machine-readable:{" "}
              <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).
            </p>
            <div id="api">
              <div class="reference">
                {document.tags.map(({ name: tag }) => (
                  <section>
                    <h2>{tag}</h2>
                    {Object.entries(document.paths)
                      .flatMap(([path, operations]) =>
                        Object.entries(operations as Record<string, Operation>).map(
                          ([method, op]) => ({
                            path,
                            method,
                            op,
                          }),
                        ),
                      )
                      .filter(({ op }) => op.tags.includes(tag))
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
                                    {JSON.stringify(
                                      Object.values(response.content)[0]?.schema,
                                      null,
                                      2,
                                    )}
                                  </pre>
                                )}
                              </div>
                            ))}
                          </details>
                        </div>
                      ))}
                  </section>
                ))}
              </div>
            </div>
            <script src="/docs/assets/swagger-ui-bundle.js" />
            <script src="/docs/assets/api-docs.js" />
          </body>
        </html>,
      );
    },
  );

  for (const { path, operationId, serve } of assets) {
    const contentType = path.endsWith(".css") ? "text/css" : "text/javascript";
    routes.add(
      {
        method: "get",
        path,
        operationId,
        summary: "A file of the interactive /docs page (Swagger UI)",
        tag: "meta",
        access: "anyone",
        responses: {
          200: { description: "The file", contentType, body: z.string() },
          304: { description: "Not modified (If-None-Match)" },
        },
      },
      serve,
    );
  }

  return routes;
}
