import { Hono } from "hono";
import { PropiusError, WEIGHTS_MEDIA_TYPE } from "@propius/shared";
import type { AppEnv } from "../http/app-env.js";
import { clientOrOwnerAuth } from "../middleware/auth/index.js";
import { HASH_PATTERN, r2ModelStore } from "../models/model-store.js";
import { hotModels } from "../models/hot-models.js";

/** Model versions by content address: immutable, so cacheable forever and revalidated by ETag. */
export const modelRoutes = new Hono<AppEnv>().get("/v1/models/:hash", clientOrOwnerAuth(), async (c) => {
  const hash = c.req.param("hash");
  if (!HASH_PATTERN.test(hash)) throw new PropiusError("model_not_found", "a model hash is 64 lowercase hex digits");
  const etag = `"${hash}"`;
  const headers = { etag, "cache-control": "private, max-age=31536000, immutable" };
  if ((c.req.header("if-none-match") ?? "").split(",").some((t) => t.trim() === etag)) return c.body(null, 304, headers);
  // Every device of a round asks for the same version: it is served from the isolate's memory.
  const bytes = await hotModels.get(r2ModelStore(c.env.MODELS), hash);
  if (!bytes) throw new PropiusError("model_not_found", "no model with that hash");
  return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { ...headers, "content-type": WEIGHTS_MEDIA_TYPE });
});
