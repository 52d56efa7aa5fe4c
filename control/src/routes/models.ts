import { createRoute, z } from "@hono/zod-openapi";
import { PropiusError, WEIGHTS_MEDIA_TYPE } from "@propius/shared";
import { clientOrOwnerAuth } from "../middleware/auth/index.js";
import { apiRoutes, asDevice, asOwner, errors, weightsContent } from "../http/api-routes.js";
import { HASH_PATTERN, r2ModelStore } from "../models/model-store.js";
import { hotModels } from "../models/hot-models.js";
import { mayRead } from "../models/model-readers.js";

const model = createRoute({
  tags: ["models"], security: [...asDevice, ...asOwner], method: "get", path: "/v1/models/{hash}", summary: "A model version by its content address",
  description: "Immutable: cacheable forever and revalidated by ETag (`If-None-Match` answers 304). A version of a job whose spec says `modelAccess: \"bound\"` is served only to the devices that job has bound and to its own tenant; to anyone else it is `model_not_found`.",
  middleware: [clientOrOwnerAuth()],
  request: { params: z.object({ hash: z.string().regex(HASH_PATTERN).openapi({ param: { name: "hash", in: "path" }, description: "SHA-256 of the weights message, 64 lowercase hex digits" }) }) },
  responses: { 200: { description: "The model version as a weights message", content: weightsContent }, 304: { description: "Not modified" }, ...errors("unauthorized", "key_revoked", "token_expired", "token_revoked", "model_not_found") },
});

/** Model versions by content address: immutable, so cacheable forever and revalidated by ETag. */
export const modelRoutes = apiRoutes().openapi(model, async (c) => {
  const { hash } = c.req.valid("param");
  // Checked before the cache and before a 304: whoever may not read the version learns nothing of it.
  const caller = c.get("tenant") !== undefined ? { tenant: c.get("tenant") } : { clientId: c.get("clientId") };
  if (!(await mayRead(c.env, r2ModelStore(c.env.MODELS), hash, caller))) throw new PropiusError("model_not_found", "no model with that hash");
  const etag = `"${hash}"`;
  const headers = { etag, "cache-control": "private, max-age=31536000, immutable" };
  if ((c.req.header("if-none-match") ?? "").split(",").some((t) => t.trim() === etag)) return c.body(null, 304, headers);
  // Every device of a round asks for the same version: it is served from the isolate's memory.
  const bytes = await hotModels.get(r2ModelStore(c.env.MODELS), hash);
  if (!bytes) throw new PropiusError("model_not_found", "no model with that hash");
  return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { ...headers, "content-type": WEIGHTS_MEDIA_TYPE });
});
