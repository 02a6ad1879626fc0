// /docs: Swagger UI (swagger-ui-dist, served by Gatehouse itself) renders
// /openapi.json in place of the server-rendered reference, which stays the
// page without JavaScript. "Try it out" calls this origin with the
// browser's session cookie; nothing is fetched from anywhere else (no
// validator badge, no CDN).
window.addEventListener("DOMContentLoaded", () => {
  const target = document.getElementById("api");
  if (!target || typeof window.SwaggerUIBundle !== "function") return;
  target.textContent = "";
  window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#api",
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    filter: true,
    validatorUrl: null,
    requestInterceptor: (request) => {
      request.credentials = "same-origin";
      return request;
    },
  });
});
