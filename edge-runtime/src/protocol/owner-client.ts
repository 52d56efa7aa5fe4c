import {
  WEIGHTS_MEDIA_TYPE,
  encodeWeights,
  parameterCount,
  type JobDeleted,
  type JobDevices,
  type JobSpecInput,
  type JobStatus,
  type JobSummary,
  type JobUpdate,
  type LayersModelJson,
  type RoundRecord,
  type TenantKey,
  type ApiKeyInfo,
  type NewApiKey,
  type EnrolmentTokenInfo,
  type NewEnrolmentToken,
  type TensorSpec,
} from "@propius/shared";
import { Http, jsonInit, type HttpOptions } from "./http.js";

export interface OwnerClientOptions extends HttpOptions {
  /** The tenant's API key (`pk_...`). */
  apiKey: string;
}

/**
 * The job owner's SDK: every owner route of API v1 (docs/api.md), and the operator's tenant
 * creation. Requests and answers are typed with @propius/shared's types. An error answer is thrown
 * as a `PropiusError` (`code`, `message`, `details`, `status`); a control plane that cannot be
 * reached after the retries as an `UnreachableError` naming the URL.
 */
export class OwnerClient {
  private readonly http: Http;
  private readonly apiKey: string;

  constructor(options: OwnerClientOptions) {
    this.http = new Http(options);
    this.apiKey = options.apiKey;
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /** `POST /v1/tenants` with the operator's admin key: creates a tenant (or adds a key to it); the key is shown once. */
  static async createTenant(options: HttpOptions & { adminKey: string; name: string }): Promise<TenantKey> {
    return new Http(options).json("/v1/tenants", jsonInit("POST", { name: options.name }, options.adminKey));
  }

  /** `POST /v1/jobs`: registers a job, state `pending_model` until its initial model is set. */
  createJob(spec: JobSpecInput): Promise<JobStatus> {
    return this.http.json("/v1/jobs", jsonInit("POST", spec, this.apiKey));
  }

  /**
   * `PUT /v1/jobs/:id/model`: seeds the job with its initial weights (in weightSpecs order), sent
   * as a weights message; this opens round 1.
   */
  async setInitialModel(job: Pick<JobStatus, "id"> | string, spec: { model: { weightSpecs: TensorSpec[] } }, weights: Float32Array): Promise<JobStatus> {
    const tensors = spec.model.weightSpecs;
    if (weights.length !== parameterCount(tensors)) {
      throw new RangeError(`the weights hold ${weights.length} values, but the model's weightSpecs ${parameterCount(tensors)}`);
    }
    const body = encodeWeights({ kind: "model", codec: "fp32", tensors }, weights);
    return this.http.json(`/v1/jobs/${idOf(job)}/model`, { method: "PUT", headers: this.auth({ "content-type": WEIGHTS_MEDIA_TYPE }), body });
  }

  /** `GET /v1/jobs`: the tenant's jobs, oldest first. */
  jobs(): Promise<{ jobs: JobSummary[] }> {
    return this.http.json("/v1/jobs", { headers: this.auth() });
  }

  /** `GET /v1/jobs/:id`: the job's state, effective spec and round records. */
  status(jobId: string, signal?: AbortSignal): Promise<JobStatus> {
    return this.http.json(`/v1/jobs/${jobId}`, { headers: this.auth() }, signal);
  }

  /** `GET /v1/jobs/:id/devices`: the devices that took part, most recently seen first (`limit`: default 100, at most 1000). */
  devices(jobId: string, options: { limit?: number } = {}, signal?: AbortSignal): Promise<JobDevices> {
    const query = options.limit === undefined ? "" : `?limit=${options.limit}`;
    return this.http.json(`/v1/jobs/${jobId}/devices${query}`, { headers: this.auth() }, signal);
  }

  /** `PATCH /v1/jobs/:id`: changes the job's plan for the rounds that open from now on. */
  update(jobId: string, change: JobUpdate): Promise<JobStatus> {
    return this.http.json(`/v1/jobs/${jobId}`, jsonInit("PATCH", change, this.apiKey));
  }

  /** The demand (devices per round) of the rounds that open from now on; the current round keeps its own. */
  setDemand(jobId: string, clientsPerRound: number): Promise<JobStatus> {
    return this.update(jobId, { clientsPerRound });
  }

  /** `POST /v1/jobs/:id/rounds/:round/metrics`: the owner's evaluation of a closed round. */
  recordMetrics(jobId: string, round: number, metrics: { testAccuracy?: number; testLoss?: number }): Promise<RoundRecord> {
    return this.http.json(`/v1/jobs/${jobId}/rounds/${round}/metrics`, jsonInit("POST", metrics, this.apiKey));
  }

  /** `POST /v1/jobs/:id/cancel`. */
  cancel(jobId: string): Promise<JobStatus> {
    return this.http.json(`/v1/jobs/${jobId}/cancel`, { method: "POST", headers: this.auth() });
  }

  /** `DELETE /v1/jobs/:id`: an ended job and its records are gone (a running one answers `job_not_running`). */
  delete(jobId: string): Promise<JobDeleted> {
    return this.http.json(`/v1/jobs/${jobId}`, { method: "DELETE", headers: this.auth() });
  }

  /** `GET /v1/jobs/:id/model/model.json`: the current model (or the version with `hash`) as tfjs loads it. */
  modelJson(jobId: string, hash?: string): Promise<LayersModelJson> {
    return this.http.json(`/v1/jobs/${jobId}/model/model.json${hashQuery(hash)}`, { headers: this.auth() });
  }

  /** `GET /v1/jobs/:id/model/weights.bin`: the raw float32 weights of the current model, or of the version with `hash`. */
  async weights(jobId: string, hash?: string): Promise<Float32Array> {
    const bytes = await this.http.bytes(`/v1/jobs/${jobId}/model/weights.bin${hashQuery(hash)}`, { headers: this.auth() });
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  }

  /**
   * A model version as a tfjs artifact: its model.json (with `weights.bin` as its one weights
   * path) and its weights, both of the same version even while rounds close.
   */
  async model(jobId: string, hash?: string): Promise<{ modelJson: LayersModelJson; weights: Float32Array }> {
    const current = await this.modelJson(jobId, hash);
    const version = current.propius.hash;
    const weights = await this.weights(jobId, version);
    const modelJson = { ...current, weightsManifest: [{ paths: ["weights.bin"], weights: current.weightsManifest.flatMap((group) => group.weights) }] };
    return { modelJson, weights };
  }

  /** `GET /v1/models/:hash`: a model version by its SHA-256, as a weights message. */
  modelVersion(hash: string): Promise<Uint8Array> {
    return this.http.bytes(`/v1/models/${hash}`, { headers: this.auth() });
  }

  /** `GET /v1/keys`: the tenant's API keys by id (never the raw keys), revoked ones too, oldest first. */
  keys(): Promise<{ keys: ApiKeyInfo[] }> {
    return this.http.json("/v1/keys", { headers: this.auth() });
  }

  /** `POST /v1/keys`: another key for the tenant, shown this once. */
  createKey(): Promise<NewApiKey> {
    return this.http.json("/v1/keys", { method: "POST", headers: this.auth() });
  }

  /** `DELETE /v1/keys/:id`: refused at once from then on; the tenant's last working key answers `last_key` (rotate it instead). */
  revokeKey(keyId: string): Promise<ApiKeyInfo> {
    return this.http.json(`/v1/keys/${encodeURIComponent(keyId)}`, { method: "DELETE", headers: this.auth() });
  }

  /** `POST /v1/keys/:id/rotate`: a new key (shown this once) replaces key `keyId`, revoked in the same step. */
  rotateKey(keyId: string): Promise<NewApiKey> {
    return this.http.json(`/v1/keys/${encodeURIComponent(keyId)}/rotate`, { method: "POST", headers: this.auth() });
  }

  /** `POST /v1/enrolment-tokens`: a token devices enrol with to take the tenant's jobs that ask for one (`job`: that job only); shown this once. */
  createEnrolmentToken(options: { job?: string } = {}): Promise<NewEnrolmentToken> {
    return this.http.json("/v1/enrolment-tokens", jsonInit("POST", options, this.apiKey));
  }

  /** `GET /v1/enrolment-tokens`: by id, revoked ones too. */
  enrolmentTokens(): Promise<{ tokens: EnrolmentTokenInfo[] }> {
    return this.http.json("/v1/enrolment-tokens", { headers: this.auth() });
  }

  /** `DELETE /v1/enrolment-tokens/:id`: enrols no more devices. */
  revokeEnrolmentToken(tokenId: string): Promise<EnrolmentTokenInfo> {
    return this.http.json(`/v1/enrolment-tokens/${encodeURIComponent(tokenId)}`, { method: "DELETE", headers: this.auth() });
  }

  private auth(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.apiKey}`, ...extra };
  }
}

const idOf = (job: Pick<JobStatus, "id"> | string) => (typeof job === "string" ? job : job.id);
const hashQuery = (hash?: string) => (hash === undefined ? "" : `?hash=${encodeURIComponent(hash)}`);
