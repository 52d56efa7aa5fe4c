import type { JobState } from "./protocol.js";
import type { TensorSpec } from "./tensors.js";

/**
 * The answers of the owner and operator routes that are not a job's status (`JobStatus`): the
 * shapes `control/src/routes/*.ts` send and the owner SDK (`OwnerClient`) returns.
 */

/** One entry of `GET /v1/jobs`: the tenant's jobs, oldest first. */
export interface JobSummary {
  id: string;
  tenant: string;
  name: string;
  state: JobState;
  createdAt: number;
}

/** `POST /v1/tenants`: the tenant, whether this call created it, and the new key (shown once). */
export interface TenantKey {
  tenant: string;
  created: boolean;
  apiKey: string;
}

/** `DELETE /v1/jobs/:id`. */
export interface JobDeleted {
  deleted: true;
  id: string;
}

/**
 * `GET /v1/jobs/:id/model/model.json`: a tfjs layers-model artifact (what `tf.loadLayersModel`
 * reads), with the model version it describes under `propius`.
 */
export interface LayersModelJson {
  format: "layers-model";
  generatedBy: string;
  modelTopology: Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: TensorSpec[] }[];
  propius: { version: number; hash: string };
}
