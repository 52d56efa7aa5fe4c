import {
  WEIGHTS_MEDIA_TYPE,
  encodeWeights,
  type JobSpecInput,
  type JobStatus,
  type RoundRecord,
} from "@propius/shared";
import { Http, jsonInit, type HttpOptions } from "./http.js";

/** The job owner's side of API v1 (and the operator's tenant creation). */
export class OwnerClient {
  private readonly http: Http;
  private readonly apiKey: string;

  constructor(options: HttpOptions & { apiKey: string }) {
    this.http = new Http(options);
    this.apiKey = options.apiKey;
  }

  /** Creates a tenant (or adds a key to it) with the operator's admin key; returns the new API key. */
  static async createTenant(options: HttpOptions & { adminKey: string; name: string }): Promise<{ tenant: string; apiKey: string }> {
    return new Http(options).json("/v1/tenants", jsonInit("POST", { name: options.name }, options.adminKey));
  }

  createJob(spec: JobSpecInput): Promise<JobStatus> {
    return this.http.json("/v1/jobs", jsonInit("POST", spec, this.apiKey));
  }

  /** Seeds the job with its initial weights (in weightSpecs order); this opens round 1. */
  setInitialModel(status: Pick<JobStatus, "id">, spec: JobSpecInput, weights: Float32Array): Promise<JobStatus> {
    const body = encodeWeights({ kind: "model", codec: "fp32", tensors: spec.model.weightSpecs }, weights);
    return this.http.json(`/v1/jobs/${status.id}/model`, { method: "PUT", headers: this.auth({ "content-type": WEIGHTS_MEDIA_TYPE }), body });
  }

  /** The tenant's jobs, oldest first. */
  jobs(): Promise<{ jobs: { id: string; name: string; state: string; createdAt: number }[] }> {
    return this.http.json("/v1/jobs", { headers: this.auth() });
  }

  status(jobId: string, signal?: AbortSignal): Promise<JobStatus> {
    return this.http.json(`/v1/jobs/${jobId}`, { headers: this.auth() }, signal);
  }

  recordMetrics(jobId: string, round: number, metrics: { testAccuracy?: number; testLoss?: number }): Promise<RoundRecord> {
    return this.http.json(`/v1/jobs/${jobId}/rounds/${round}/metrics`, jsonInit("POST", metrics, this.apiKey));
  }

  cancel(jobId: string): Promise<JobStatus> {
    return this.http.json(`/v1/jobs/${jobId}/cancel`, { method: "POST", headers: this.auth() });
  }

  /** The raw float32 weights of the job's current model, or of the version with `hash`. */
  async weights(jobId: string, hash?: string): Promise<Float32Array> {
    const query = hash ? `?hash=${hash}` : "";
    const bytes = await this.http.bytes(`/v1/jobs/${jobId}/model/weights.bin${query}`, { headers: this.auth() });
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  }

  private auth(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.apiKey}`, ...extra };
  }
}
