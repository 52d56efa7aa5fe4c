import type { MiddlewareHandler } from "hono";
import { PropiusError } from "@propius/shared";
import type { AppEnv } from "../http/app-env.js";
import { directoryOf } from "../directory/directory-client.js";

/**
 * Counts an upload refused with an error code (by the route, the aggregator shard or the job),
 * under the job the path names: one call to the directory per refusal, made after the answer
 * (`waitUntil`), so the device does not wait for it. Refusals are the exception, so this is the
 * one metric counted per event rather than batched; it counts at most once (a call lost is lost).
 */
export function countRefusals(): MiddlewareHandler<AppEnv> {
  return async function countRefusal(c, next) {
    await next();
    const error = c.error;
    if (!(error instanceof PropiusError)) return;
    const counted = directoryOf(c.env).countRefusal(c.req.param("id") ?? "", error.code).catch((e: unknown) => console.error("could not count a refused upload", e));
    try {
      c.executionCtx.waitUntil(counted);
    } catch {
      // No execution context (a test calling the app directly): the call runs on its own.
    }
  };
}
