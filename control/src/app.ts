import { Hono } from "hono";
import { PROTOCOL_VERSION } from "@propius/shared";
import type { AppEnv } from "./http/app-env.js";
import { notFound, onError } from "./http/on-error.js";
import { clientRoutes } from "./routes/clients.js";
import { connectRoutes } from "./routes/connect.js";
import { jobRoutes } from "./routes/jobs.js";
import { jobEventRoutes } from "./routes/job-events.js";
import { jobDeviceRoutes } from "./routes/job-devices.js";
import { modelRoutes } from "./routes/models.js";
import { tenantRoutes } from "./routes/tenants.js";
import { updateRoutes } from "./routes/updates.js";
import { adminRoutes } from "./routes/admin.js";
import { metricsRoutes } from "./routes/metrics.js";

/** The control plane's HTTP API (v1). */
export function createApp() {
  return new Hono<AppEnv>()
    .get("/v1/health", (c) => c.json({ ok: true, protocol: PROTOCOL_VERSION }))
    .route("/", tenantRoutes)
    .route("/", updateRoutes)
    .route("/", jobRoutes)
    .route("/", jobEventRoutes)
    .route("/", jobDeviceRoutes)
    .route("/", clientRoutes)
    .route("/", connectRoutes)
    .route("/", modelRoutes)
    .route("/", adminRoutes)
    .route("/", metricsRoutes)
    .notFound(notFound)
    .onError(onError);
}
