import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { PROTOCOL_VERSION } from "@propius/shared";
import type { AppEnv } from "../http/app-env.js";
import { SECURITY, json } from "../http/api-routes.js";
import { referencePage, type ApiDocument } from "../http/reference-page.js";

export const DOCUMENT_PATH = "/v1/openapi.json";

const documentRoute = createRoute({
  tags: ["reference"], method: "get", path: DOCUMENT_PATH, summary: "This API's OpenAPI 3.1 document",
  responses: { 200: json(z.record(z.string(), z.unknown()), "The document") },
});
const referenceRoute = createRoute({
  tags: ["reference"], method: "get", path: "/v1/reference", summary: "A readable reference of this API (HTML)",
  responses: { 200: { description: "The reference page", content: { "text/html": { schema: z.string() } } } },
});

/**
 * Serves the OpenAPI document of every route declared in `app` (generated once per isolate: the
 * routes do not change while it runs) and a reference page that reads it.
 */
export function withReference(app: OpenAPIHono<AppEnv>) {
  for (const [name, scheme] of Object.entries(SECURITY)) app.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  let page: string | undefined;
  // The server is given relative: the document describes whichever origin served it.
  const documentOf = () =>
    (document ??= app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: {
          title: "Propius Edge API",
          version: `v1 (protocol ${PROTOCOL_VERSION})`,
          description: "The control plane of Propius Edge: job owners create and follow jobs, devices check in, train and upload, operators read metrics. Every error answers `{ error: { code, message, details? } }` with a stable code (docs/api.md).",
        },
        servers: [{ url: "/" }],
      }));
  return app
    .openapi(documentRoute, (c) => c.json(documentOf(), 200))
    .openapi(referenceRoute, (c) => c.html((page ??= referencePage(documentOf() as unknown as ApiDocument)), 200));
}
