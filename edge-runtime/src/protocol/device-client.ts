import {
  TICKET_HEADER,
  WEIGHTS_MEDIA_TYPE,
  decodeWeights,
  encodeWeights,
  type Attributes,
  type CheckInReply,
  type PingReply,
  type RoundRecord,
  type Task,
  type TaskFailure,
  type EvaluationReport,
  type UpdateMeta,
  type UpdateReceipt,
  type WeightsMessage,
} from "@propius/shared";
import { Http, jsonInit, type HttpOptions } from "./http.js";

export interface Credentials {
  clientId: string;
  token: string;
}

/** A downloaded model and the bytes it cost (0 when it came from the cache). */
export interface ModelDownload {
  model: WeightsMessage;
  bytes: number;
}

/**
 * The device side of protocol v1: enrol, check in, download a task's model (cached by its
 * content hash, so a version is never fetched twice), upload a delta with the task's ticket.
 */
export class DeviceClient {
  private readonly http: Http;
  private readonly models = new Map<string, WeightsMessage>();
  credentials: Credentials | null;

  constructor(options: HttpOptions & { credentials?: Credentials | null }) {
    this.http = new Http(options);
    this.credentials = options.credentials ?? null;
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  async register(attributes: Attributes = {}): Promise<Credentials> {
    const reply = await this.http.json<Credentials>("/v1/clients", jsonInit("POST", { attributes }));
    this.credentials = { clientId: reply.clientId, token: reply.token };
    return this.credentials;
  }

  /** Asks for a task; `accept` takes a job from an earlier offer. */
  checkIn(attributes: Attributes, options: { accept?: string; signal?: AbortSignal } = {}): Promise<CheckInReply> {
    const body = options.accept === undefined ? { attributes } : { attributes, accept: options.accept };
    return this.http.json<CheckInReply>("/v1/checkin", jsonInit("POST", body, this.token()), options.signal);
  }

  /** Keeps the device's attributes alive in the scheduler's registry while it is busy. */
  ping(signal?: AbortSignal): Promise<PingReply> {
    return this.http.json<PingReply>("/v1/ping", jsonInit("POST", {}, this.token()), signal);
  }

  async downloadModel(task: Task, signal?: AbortSignal): Promise<ModelDownload> {
    const cached = this.models.get(task.modelHash);
    if (cached) return { model: cached, bytes: 0 };
    const bytes = await this.http.bytes(task.modelUrl, { headers: { authorization: `Bearer ${this.token()}` } }, signal);
    const model = decodeWeights(bytes);
    this.models.clear();
    this.models.set(task.modelHash, model);
    return { model, bytes: bytes.length };
  }

  async uploadUpdate(task: Task, delta: Float32Array, meta: UpdateMeta, signal?: AbortSignal): Promise<UpdateReceipt & { bytes: number }> {
    const { deltaCodec, deltaTopK } = task.plan;
    const sparse = deltaTopK === undefined ? undefined : { k: Math.max(1, Math.round(deltaTopK * delta.length)) };
    const body = encodeWeights({ kind: "delta", codec: deltaCodec ?? "fp32", sparse, tensors: task.model.weightSpecs, meta: { ...meta } }, delta);
    const receipt = await this.http.json<UpdateReceipt>(
      task.uploadUrl,
      {
        method: "POST",
        headers: { authorization: `Bearer ${this.token()}`, "content-type": WEIGHTS_MEDIA_TYPE, [TICKET_HEADER]: task.ticket },
        body,
      },
      signal,
    );
    return { ...receipt, bytes: body.length };
  }

  /** Sends the device's evaluation of an evaluation task's model. */
  reportEvaluation(task: Task, report: EvaluationReport, signal?: AbortSignal): Promise<{ recorded: true; evaluation?: RoundRecord["evaluation"] }> {
    if (!task.evaluationUrl) throw new Error(`task of job ${task.jobId} round ${task.round} is not an evaluation`);
    return this.http.json(task.evaluationUrl, this.withTicket(jsonInit("POST", report, this.token()), task), signal);
  }

  /** Tells the job this device cannot do `task`, so that its slot goes to another device at once. */
  reportFailure(task: Task, failure: TaskFailure, signal?: AbortSignal): Promise<{ recorded: true; failed: RoundRecord["failed"] }> {
    return this.http.json(task.failureUrl, this.withTicket(jsonInit("POST", failure, this.token()), task), signal);
  }

  private withTicket(init: RequestInit, task: Task): RequestInit {
    return { ...init, headers: { ...(init.headers as Record<string, string>), [TICKET_HEADER]: task.ticket } };
  }

  private token(): string {
    if (!this.credentials) throw new Error("register the device (or load its credentials) before checking in");
    return this.credentials.token;
  }
}
