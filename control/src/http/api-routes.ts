import { OpenAPIHono, z } from "@hono/zod-openapi";
import { ERROR_STATUS, JOB_ID_PATTERN, TICKET_HEADER, WEIGHTS_MEDIA_TYPE, errorBodySchema, type ErrorCode } from "@propius/shared";
import type { AppEnv } from "./app-env.js";
import { refuseInvalid } from "../middleware/validate/index.js";
import { TICKET_PATTERN } from "../auth/tickets.js";

/**
 * The pieces every route group declares its routes with (`createRoute` from @hono/zod-openapi):
 * the same declaration validates the request (see middleware/validate) and is the route's entry
 * in the OpenAPI document (routes/openapi.ts).
 */

/** A group of routes: a Hono app whose routes are declared with their schemas. */
export function apiRoutes() {
  return new OpenAPIHono<AppEnv>({ defaultHook: refuseInvalid });
}

/** Who may call a route: the schemes of the document's `components.securitySchemes`. */
export const SECURITY = {
  apiKey: { type: "http", scheme: "bearer", description: "A tenant's API key (`pk_...`), from `POST /v1/tenants`." },
  deviceToken: { type: "http", scheme: "bearer", description: "A device's token, from `POST /v1/clients`." },
  adminKey: { type: "http", scheme: "bearer", description: "The operator's key (the Worker's PROPIUS_ADMIN_KEY secret)." },
} as const;
export const asOwner = [{ apiKey: [] }];
export const asDevice = [{ deviceToken: [] }];
export const asAdmin = [{ adminKey: [] }];

export const jobId = z.string().regex(JOB_ID_PATTERN).openapi({ param: { name: "id", in: "path" }, example: "job_Xq3v9c2LmT0a" });
export const jobParams = z.object({ id: jobId });
const roundNumber = z
  .string()
  .regex(/^[1-9][0-9]{0,8}$/, "a positive integer")
  .transform(Number)
  .openapi({ param: { name: "round", in: "path" }, type: "integer", minimum: 1, example: 3 });
export const roundParams = z.object({ id: jobId, round: roundNumber });
export const ticketHeaders = z.object({
  // A training ticket is signed (`tk.<claims>.<signature>`, see auth/tickets.ts); an evaluation ticket is an id the job keeps.
  [TICKET_HEADER]: z
    .union([z.string().regex(TICKET_PATTERN), z.string().regex(/^[A-Za-z0-9_-]{8,64}$/)])
    .openapi({ param: { name: TICKET_HEADER, in: "header" }, description: "The task's ticket, as the check-in gave it." }),
});

/** A required JSON request body. */
export function jsonRequest<S extends z.ZodType>(schema: S, description?: string) {
  return { body: { required: true, description, content: { "application/json": { schema } } } } as const;
}

/** A JSON answer. */
export function json<S extends z.ZodType>(schema: S, description: string) {
  return { description, content: { "application/json": { schema } } } as const;
}

/** A weights message (`application/vnd.propius.weights`, see docs/protocol.md), as a request or an answer. */
export const weightsContent = { [WEIGHTS_MEDIA_TYPE]: { schema: { type: "string", format: "binary" } } } as const;
export const rawWeightsContent = { "application/octet-stream": { schema: { type: "string", format: "binary" } } } as const;

/**
 * A schema as a named component of the document (`#/components/schemas/<id>`). zod copies its
 * methods onto each schema as it makes it, so a schema of @propius/shared made before
 * @hono/zod-openapi added `openapi` lacks it: the method is taken from the prototype.
 */
export function named<S extends z.ZodType>(schema: S, id: string): S {
  return z.ZodType.prototype.openapi.call(schema, id) as S;
}

const ErrorBody = named(errorBodySchema, "Error");

/** The error answers a route may give, by status, each listing its codes. */
export function errors(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  return Object.fromEntries([...byStatus].map(([status, list]) => [status, json(ErrorBody, list.map((code) => `\`${code}\``).join(", "))]));
}

/** Codes a route that takes a device token can answer for it. */
export const DEVICE_AUTH_ERRORS: ErrorCode[] = ["unauthorized", "token_expired", "token_revoked", "rate_limited"];

/** Codes every JSON-body route can answer. */
export const BODY_ERRORS: ErrorCode[] = ["invalid_json", "validation_failed", "payload_too_large", "unsupported_media_type"];
