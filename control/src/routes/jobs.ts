import { Hono } from "hono";
import { PropiusError, WEIGHTS_MEDIA_TYPE, parameterCount, jobSpecSchema, jobUpdateSchema, roundMetricsSchema } from "@propius/shared";
import type { AppEnv } from "../http/app-env.js";
import { ownerAuth } from "../middleware/auth/index.js";
import { JSON_BODY_LIMIT, bodyLimit, uploadLimit } from "../middleware/body-limit/index.js";
import { intParam, readJson } from "../middleware/validate/index.js";
import { directoryOf, jobOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";
import { randomId } from "../auth/tokens.js";
import { bodyStream } from "../http/byte-stream.js";
import { jobIdParam } from "./job-id.js";
import { r2ModelStore } from "../models/model-store.js";
import { checkModel } from "../models/model-check.js";
import { starvationOf } from "../metrics/starvation.js";

/** The job owner's API: create, inspect, change, seed, evaluate, download and cancel jobs. */
export const jobRoutes = new Hono<AppEnv>()
  .use("/v1/jobs", ownerAuth())
  .use("/v1/jobs/:id", ownerAuth())
  .use("/v1/jobs/:id/model/*", ownerAuth())
  .use("/v1/jobs/:id/model", ownerAuth())
  .use("/v1/jobs/:id/cancel", ownerAuth())
  .use("/v1/jobs/:id/rounds/:round/metrics", ownerAuth())
  .post("/v1/jobs", bodyLimit(JSON_BODY_LIMIT), async (c) => {
    const parsed = await readJson(c, jobSpecSchema);
    // Checked here, not in the job's object: the build's CPU is the creating request's, in the Worker.
    const { input } = await checkModel(parsed.model, parsed.input, { maxBytes: uploadLimit(c.env) });
    const spec = { ...parsed, input };
    const id = `job_${randomId(12)}`;
    const status = await unwrap(jobOf(c.env, id).create({ id, tenant: c.get("tenant"), spec }));
    return c.json(status, 201, { location: `/v1/jobs/${id}` });
  })
  .get("/v1/jobs", async (c) => c.json({ jobs: await directoryOf(c.env).jobsOf(c.get("tenant")) }))
  .get("/v1/jobs/:id", async (c) => {
    const id = jobIdParam(c);
    // The supply figures are the directory's (the shards report them there), read beside the job's status.
    const [status, supply] = await Promise.all([unwrap(jobOf(c.env, id).status(c.get("tenant"))), directoryOf(c.env).supplyOf(id)]);
    const starvation = starvationOf(status, supply);
    return c.json(starvation ? { ...status, starvation } : status);
  })
  .patch("/v1/jobs/:id", bodyLimit(JSON_BODY_LIMIT), async (c) => {
    const id = jobIdParam(c);
    const change = await readJson(c, jobUpdateSchema);
    return c.json(await unwrap(jobOf(c.env, id).update(c.get("tenant"), change)));
  })
  .put("/v1/jobs/:id/model", bodyLimit(uploadLimit), async (c) => {
    const id = jobIdParam(c);
    const type = c.req.header("content-type") ?? "";
    const raw = type.startsWith("application/octet-stream");
    if (!raw && !type.startsWith(WEIGHTS_MEDIA_TYPE)) {
      throw new PropiusError("unsupported_media_type", `send ${WEIGHTS_MEDIA_TYPE} or application/octet-stream (raw float32 weights)`);
    }
    return c.json(await unwrap(jobOf(c.env, id).setInitialModel(c.get("tenant"), bodyStream(c.req.raw), raw)));
  })
  .get("/v1/jobs/:id/model/model.json", async (c) => {
    const model = await unwrap(jobOf(c.env, jobIdParam(c)).model(c.get("tenant"), c.req.query("hash")));
    return c.json({
      format: "layers-model",
      generatedBy: "propius-edge",
      modelTopology: model.spec.topology,
      // tfjs' loader appends model.json's own query to each weights path: a hash asked for is there already.
      weightsManifest: [{ paths: [c.req.query("hash") === undefined ? `weights.bin?hash=${model.hash}` : "weights.bin"], weights: model.spec.weightSpecs }],
      propius: { version: model.version, hash: model.hash },
    });
  })
  .get("/v1/jobs/:id/model/weights.bin", async (c) => {
    const model = await unwrap(jobOf(c.env, jobIdParam(c)).model(c.get("tenant"), c.req.query("hash")));
    const bytes = await r2ModelStore(c.env.MODELS).get(model.hash);
    if (!bytes) throw new PropiusError("model_not_found", "the model blob is missing from the model store");
    const values = bytes.subarray(bytes.length - parameterCount(model.spec.weightSpecs) * 4);
    return c.body(values.slice().buffer, 200, { "content-type": "application/octet-stream", etag: `"${model.hash}"` });
  })
  .delete("/v1/jobs/:id", async (c) => c.json(await unwrap(jobOf(c.env, jobIdParam(c)).delete(c.get("tenant")))))
  .post("/v1/jobs/:id/cancel", async (c) => c.json(await unwrap(jobOf(c.env, jobIdParam(c)).cancel(c.get("tenant")))))
  .post("/v1/jobs/:id/rounds/:round/metrics", bodyLimit(JSON_BODY_LIMIT), async (c) => {
    const id = jobIdParam(c);
    const round = intParam(c, "round");
    const metrics = await readJson(c, roundMetricsSchema);
    return c.json(await unwrap(jobOf(c.env, id).recordMetrics(c.get("tenant"), round, metrics)));
  });
