import { createRoute } from "@hono/zod-openapi";
import { PROTOCOL_VERSION, healthSchema } from "@propius/shared";
import { apiRoutes, json } from "./http/api-routes.js";
import { notFound, onError } from "./http/on-error.js";
import { clientRoutes } from "./routes/clients.js";
import { connectRoutes } from "./routes/connect.js";
import { jobRoutes } from "./routes/jobs.js";
import { jobEventRoutes } from "./routes/job-events.js";
import { jobDeviceRoutes } from "./routes/job-devices.js";
import { modelRoutes } from "./routes/models.js";
import { tenantRoutes } from "./routes/tenants.js";
import { keyRoutes } from "./routes/keys.js";
import { enrolmentTokenRoutes } from "./routes/enrolment-tokens.js";
import { updateRoutes } from "./routes/updates.js";
import { secureAggregationRoutes } from "./routes/secure-aggregation.js";
import { adminRoutes } from "./routes/admin.js";
import { deviceRevocationRoutes } from "./routes/device-revocation.js";
import { metricsRoutes } from "./routes/metrics.js";
import { withReference } from "./routes/openapi.js";
import { receiveUnread } from "./middleware/body-limit/index.js";

const health = createRoute({
  tags: ["reference"], method: "get", path: "/v1/health", summary: "Whether the control plane answers, and its protocol version",
  responses: { 200: json(healthSchema, "It answers") },
});

/** The control plane's HTTP API (v1), with its OpenAPI document at /v1/openapi.json. */
export function createApp() {
  const root = apiRoutes();
  root.use("*", receiveUnread());
  const app = root
    .openapi(health, (c) => c.json({ ok: true as const, protocol: PROTOCOL_VERSION }, 200))
    .route("/", tenantRoutes)
    .route("/", keyRoutes)
    .route("/", enrolmentTokenRoutes)
    .route("/", updateRoutes)
    .route("/", secureAggregationRoutes)
    .route("/", jobRoutes)
    .route("/", jobEventRoutes)
    .route("/", jobDeviceRoutes)
    .route("/", clientRoutes)
    .route("/", connectRoutes)
    .route("/", modelRoutes)
    .route("/", adminRoutes)
    .route("/", deviceRevocationRoutes)
    .route("/", metricsRoutes);
  return withReference(app).notFound(notFound).onError(onError);
}
