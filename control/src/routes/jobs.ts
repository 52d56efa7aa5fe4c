import { createRoute, z } from "@hono/zod-openapi";
import {
  PropiusError, WEIGHTS_MEDIA_TYPE, parameterCount, jobSpecSchema, jobUpdateSchema, roundMetricsSchema,
  jobStatusSchema, jobListSchema, jobDeletedSchema, layersModelJsonSchema, roundRecordSchema,
} from "@propius/shared";
import { ownerAuth } from "../middleware/auth/index.js";
import { JSON_BODY_LIMIT, bodyLimit, streamLimit, uploadLimit } from "../middleware/body-limit/index.js";
import { jsonBody } from "../middleware/validate/index.js";
import { BODY_ERRORS, apiRoutes, named, asOwner, errors, json, jobParams, jsonRequest, rawWeightsContent, roundParams, weightsContent } from "../http/api-routes.js";
import { directoryOf, jobOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";
import { randomId } from "../auth/tokens.js";
import { bodyStream } from "../http/byte-stream.js";
import { r2ModelStore } from "../models/model-store.js";
import { checkModel } from "../models/model-check.js";
import { starvationOf } from "../metrics/starvation.js";

const JobSpec = named(jobSpecSchema, "JobSpec");
const JobStatus = named(jobStatusSchema, "JobStatus");
const RoundRecord = named(roundRecordSchema, "RoundRecord");
const tags = ["jobs"];
const owner = { tags, security: asOwner, middleware: [ownerAuth()] };
const modelVersion = z.object({ hash: z.string().optional().openapi({ description: "a model version's hash (default: the job's current model)" }) });

const create = createRoute({
  ...owner, method: "post", path: "/v1/jobs", summary: "Create a job",
  description: "The model is checked here (it builds, fits the input format, fits the upload limit). The job waits in `pending_model` until its initial weights come with `PUT /v1/jobs/{id}/model`.",
  middleware: [ownerAuth(), bodyLimit(JSON_BODY_LIMIT), jsonBody()],
  request: jsonRequest(JobSpec, "The job spec: see docs/api.md"),
  responses: { 201: json(JobStatus, "The job, created"), ...errors("unauthorized", ...BODY_ERRORS, "invalid_model", "unsupported_model") },
});
const list = createRoute({
  ...owner, method: "get", path: "/v1/jobs", summary: "List the tenant's jobs",
  responses: { 200: json(jobListSchema, "The tenant's jobs, oldest first"), ...errors("unauthorized") },
});
const status = createRoute({
  ...owner, method: "get", path: "/v1/jobs/{id}", summary: "A job's status",
  description: "Its rounds, its effective spec and, while it runs, whether its rounds can fill (`starvation`).",
  request: { params: jobParams },
  responses: { 200: json(JobStatus, "The job's status"), ...errors("unauthorized", "job_not_found") },
});
const update = createRoute({
  ...owner, method: "patch", path: "/v1/jobs/{id}", summary: "Change a running job (demand, priority)",
  middleware: [ownerAuth(), bodyLimit(JSON_BODY_LIMIT), jsonBody()],
  request: { params: jobParams, ...jsonRequest(jobUpdateSchema) },
  responses: { 200: json(JobStatus, "The job, changed"), ...errors("unauthorized", "job_not_found", "job_not_running", ...BODY_ERRORS) },
});
const setModel = createRoute({
  ...owner, method: "put", path: "/v1/jobs/{id}/model", summary: "Set a pending job's initial model",
  middleware: [ownerAuth(), streamLimit(uploadLimit)],
  request: { params: jobParams, body: { required: true, description: "A weights message, or raw float32 values in the weight specs' order", content: { ...weightsContent, ...rawWeightsContent } } },
  responses: { 200: json(JobStatus, "The job, running"), ...errors("unauthorized", "job_not_found", "model_already_set", "invalid_model", "payload_too_large", "upload_stalled", "unsupported_media_type") },
});
const modelJson = createRoute({
  ...owner, method: "get", path: "/v1/jobs/{id}/model/model.json", summary: "The job's model as a tfjs model.json",
  request: { params: jobParams, query: modelVersion },
  responses: { 200: json(layersModelJsonSchema, "What `tf.loadLayersModel` reads; its weights path names the version"), ...errors("unauthorized", "job_not_found", "model_not_found") },
});
const weights = createRoute({
  ...owner, method: "get", path: "/v1/jobs/{id}/model/weights.bin", summary: "The job's model weights (raw float32)",
  request: { params: jobParams, query: modelVersion },
  responses: { 200: { description: "The weights, float32 little-endian in the weight specs' order", content: rawWeightsContent }, ...errors("unauthorized", "job_not_found", "model_not_found") },
});
const remove = createRoute({
  ...owner, method: "delete", path: "/v1/jobs/{id}", summary: "Delete a job and its state",
  request: { params: jobParams },
  responses: { 200: json(jobDeletedSchema, "The job, deleted"), ...errors("unauthorized", "job_not_found") },
});
const cancel = createRoute({
  ...owner, method: "post", path: "/v1/jobs/{id}/cancel", summary: "Cancel a job",
  request: { params: jobParams },
  responses: { 200: json(JobStatus, "The job, cancelled"), ...errors("unauthorized", "job_not_found", "job_not_running") },
});
const metrics = createRoute({
  ...owner, method: "post", path: "/v1/jobs/{id}/rounds/{round}/metrics", summary: "Record the owner's evaluation of a round's model",
  middleware: [ownerAuth(), bodyLimit(JSON_BODY_LIMIT), jsonBody()],
  request: { params: roundParams, ...jsonRequest(roundMetricsSchema) },
  responses: { 200: json(RoundRecord, "The round, with the metrics"), ...errors("unauthorized", "job_not_found", ...BODY_ERRORS) },
});

/** The job owner's API: create, inspect, change, seed, evaluate, download and cancel jobs. */
export const jobRoutes = apiRoutes()
  .openapi(create, async (c) => {
    const parsed = c.req.valid("json");
    // Checked here, not in the job's object: the build's CPU is the creating request's, in the Worker.
    const { input } = await checkModel(parsed.model, parsed.input, { maxBytes: uploadLimit(c.env) });
    const spec = { ...parsed, input };
    const id = `job_${randomId(12)}`;
    const created = await unwrap(jobOf(c.env, id).create({ id, tenant: c.get("tenant"), spec }));
    return c.json(created, 201, { location: `/v1/jobs/${id}` });
  })
  .openapi(list, async (c) => c.json({ jobs: await directoryOf(c.env).jobsOf(c.get("tenant")) }, 200))
  .openapi(status, async (c) => {
    const { id } = c.req.valid("param");
    // The supply figures are the directory's (the shards report them there), read beside the job's status.
    const [status, supply] = await Promise.all([unwrap(jobOf(c.env, id).status(c.get("tenant"))), directoryOf(c.env).supplyOf(id)]);
    const starvation = starvationOf(status, supply);
    return c.json(starvation ? { ...status, starvation } : status, 200);
  })
  .openapi(update, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(await unwrap(jobOf(c.env, id).update(c.get("tenant"), c.req.valid("json"))), 200);
  })
  .openapi(setModel, async (c) => {
    const { id } = c.req.valid("param");
    const type = c.req.header("content-type") ?? "";
    const raw = type.startsWith("application/octet-stream");
    if (!raw && !type.startsWith(WEIGHTS_MEDIA_TYPE)) {
      throw new PropiusError("unsupported_media_type", `send ${WEIGHTS_MEDIA_TYPE} or application/octet-stream (raw float32 weights)`);
    }
    return c.json(await unwrap(jobOf(c.env, id).setInitialModel(c.get("tenant"), bodyStream(c.req.raw), raw)), 200);
  })
  .openapi(modelJson, async (c) => {
    const { id } = c.req.valid("param");
    const { hash } = c.req.valid("query");
    const model = await unwrap(jobOf(c.env, id).model(c.get("tenant"), hash));
    return c.json({
      format: "layers-model" as const,
      generatedBy: "propius-edge",
      modelTopology: model.spec.topology,
      // tfjs' loader appends model.json's own query to each weights path: a hash asked for is there already.
      weightsManifest: [{ paths: [hash === undefined ? `weights.bin?hash=${model.hash}` : "weights.bin"], weights: model.spec.weightSpecs }],
      propius: { version: model.version, hash: model.hash },
    }, 200);
  })
  .openapi(weights, async (c) => {
    const { id } = c.req.valid("param");
    const model = await unwrap(jobOf(c.env, id).model(c.get("tenant"), c.req.valid("query").hash));
    const bytes = await r2ModelStore(c.env.MODELS).get(model.hash);
    if (!bytes) throw new PropiusError("model_not_found", "the model blob is missing from the model store");
    const values = bytes.subarray(bytes.length - parameterCount(model.spec.weightSpecs) * 4);
    return c.body(values.slice().buffer, 200, { "content-type": "application/octet-stream", etag: `"${model.hash}"` });
  })
  .openapi(remove, async (c) => c.json(await unwrap(jobOf(c.env, c.req.valid("param").id).delete(c.get("tenant"))), 200))
  .openapi(cancel, async (c) => c.json(await unwrap(jobOf(c.env, c.req.valid("param").id).cancel(c.get("tenant"))), 200))
  .openapi(metrics, async (c) => {
    const { id, round } = c.req.valid("param");
    return c.json(await unwrap(jobOf(c.env, id).recordMetrics(c.get("tenant"), round, c.req.valid("json"))), 200);
  });
