import {
  PropiusError,
  TICKET_HEADER,
  WEIGHTS_MEDIA_TYPE,
  decodeWeights,
  encodeWeights,
  type Attributes,
  type CheckInReply,
  type Enrolment,
  type PingReply,
  type RoundRecord,
  type Task,
  type TaskFailure,
  type EvaluationReport,
  type UpdateMeta,
  type UpdateReceipt,
  type WeightsMessage,
  type SecurePending,
  type SecurePhase,
} from "@propius/shared";
import { Http, jsonInit, type HttpOptions } from "./http.js";

export interface Credentials {
  clientId: string;
  token: string;
  /** When the token stops being accepted (ms since the epoch); absent from servers whose tokens do not expire. */
  expiresAt?: number;
  /** When the device renews it: halfway through its life. */
  renewAfter?: number;
}

/** A downloaded model and the bytes it cost (0 when it came from the cache). */
export interface ModelDownload {
  model: WeightsMessage;
  bytes: number;
}

export interface DeviceClientOptions extends HttpOptions {
  credentials?: Credentials | null;
  /** Told of every new token (enrolment, renewal, enrolling again), to keep it across restarts. */
  onCredentials?: (credentials: Credentials) => void | Promise<void>;
}

/**
 * The device side of protocol v1: enrol, check in, download a task's model (cached by its
 * content hash, so a version is never fetched twice), upload a delta with the task's ticket.
 *
 * Its token expires: the client renews it halfway through its life, before the call that finds it
 * due (same device, so its binding and ticket stay good), and should it have expired all the same
 * (the device slept through its life) enrols again as a new device and repeats the call once. A
 * revoked token (`token_revoked`) is not worked around: the call throws it.
 */
export class DeviceClient {
  private readonly http: Http;
  private readonly models = new Map<string, WeightsMessage>();
  private readonly onCredentials?: DeviceClientOptions["onCredentials"];
  private renewing: Promise<void> | null = null;
  private enrolmentToken: string | undefined;
  credentials: Credentials | null;

  constructor(options: DeviceClientOptions) {
    this.http = new Http(options);
    this.credentials = options.credentials ?? null;
    this.onCredentials = options.onCredentials;
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /** `enrolmentToken`: a job owner's (`et_...`), so that the device may take that owner's jobs that ask for one; kept for enrolling again. */
  async register(attributes: Attributes = {}, options: { enrolmentToken?: string } = {}): Promise<Credentials> {
    if (options.enrolmentToken !== undefined) this.enrolmentToken = options.enrolmentToken;
    const body = this.enrolmentToken === undefined ? { attributes } : { attributes, enrolmentToken: this.enrolmentToken };
    return this.adopt(await this.http.json<Enrolment>("/v1/clients", jsonInit("POST", body)));
  }

  /** `POST /v1/clients/token`: a new token for this device, with a new expiry. */
  async renew(signal?: AbortSignal): Promise<Credentials> {
    return this.adopt(await this.http.json<Enrolment>("/v1/clients/token", { method: "POST", headers: { authorization: `Bearer ${this.credentialsOrThrow().token}` } }, signal));
  }

  /** The token to send now: renewed first when it is due (a failed renewal keeps the current one while it lasts). */
  async currentToken(signal?: AbortSignal): Promise<string> {
    const { renewAfter } = this.credentialsOrThrow();
    if (renewAfter !== undefined && Date.now() >= renewAfter) {
      this.renewing ??= this.renew(signal).then(
        () => undefined,
        () => undefined,
      ).finally(() => (this.renewing = null));
      await this.renewing;
    }
    return this.credentialsOrThrow().token;
  }

  /** Asks for a task; `accept` takes a job from an earlier offer. */
  checkIn(attributes: Attributes, options: { accept?: string; signal?: AbortSignal } = {}): Promise<CheckInReply> {
    const body = options.accept === undefined ? { attributes } : { attributes, accept: options.accept };
    return this.authed((token) => this.http.json<CheckInReply>("/v1/checkin", jsonInit("POST", body, token), options.signal), options.signal);
  }

  /** Keeps the device's attributes alive in the scheduler's registry while it is busy. */
  ping(signal?: AbortSignal): Promise<PingReply> {
    return this.authed((token) => this.http.json<PingReply>("/v1/ping", jsonInit("POST", {}, token), signal), signal);
  }

  async downloadModel(task: Task, signal?: AbortSignal): Promise<ModelDownload> {
    const cached = this.models.get(task.modelHash);
    if (cached) return { model: cached, bytes: 0 };
    const bytes = await this.authed((token) => this.http.bytes(task.modelUrl, { headers: { authorization: `Bearer ${token}` } }, signal), signal);
    const model = decodeWeights(bytes);
    this.models.clear();
    this.models.set(task.modelHash, model);
    return { model, bytes: bytes.length };
  }

  async uploadUpdate(task: Task, delta: Float32Array, meta: UpdateMeta, signal?: AbortSignal): Promise<UpdateReceipt & { bytes: number }> {
    const { deltaCodec, deltaTopK } = task.plan;
    const sparse = deltaTopK === undefined ? undefined : { k: Math.max(1, Math.round(deltaTopK * delta.length)) };
    const body = encodeWeights({ kind: "delta", codec: deltaCodec ?? "fp32", sparse, tensors: task.model.weightSpecs, meta: { ...meta } }, delta);
    const receipt = await this.authed(
      (token) =>
        this.http.json<UpdateReceipt>(
          task.uploadUrl,
          { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": WEIGHTS_MEDIA_TYPE, [TICKET_HEADER]: task.ticket }, body },
          signal,
        ),
      signal,
    );
    return { ...receipt, bytes: body.length };
  }

  /**
   * Secure aggregation: one step of the round's protocol at the task's secure endpoints (keys,
   * shares, reveal), with its ticket.
   */
  secureStep<T>(task: Task, step: "keys" | "shares" | "reveal", body: unknown, signal?: AbortSignal): Promise<T> {
    const url = `${secureUrl(task)}/${step}`;
    return this.authed((token) => this.http.json<T>(url, this.withTicket(jsonInit("POST", body, token), task), signal), signal);
  }

  /** Secure aggregation: the device's masked input, as little-endian 32-bit integers. */
  secureMasked(task: Task, values: Uint32Array, signal?: AbortSignal): Promise<{ accepted: true; bytes: number }> {
    const url = `${secureUrl(task)}/masked`;
    const body = new Uint8Array(values.buffer as ArrayBuffer, values.byteOffset, values.byteLength);
    return this.authed(
      (token) => this.http.json(url, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream", [TICKET_HEADER]: task.ticket }, body }, signal),
      signal,
    );
  }

  /** Secure aggregation: a phase's outcome, or null while it is pending (the shard held the ask open a while first). */
  async secureOutcome<T>(task: Task, phase: SecurePhase, signal?: AbortSignal): Promise<T | null> {
    const url = `${secureUrl(task)}/${phase}`;
    const answer = await this.authed((token) => this.http.json<T | SecurePending>(url, { headers: { authorization: `Bearer ${token}`, [TICKET_HEADER]: task.ticket } }, signal), signal);
    return typeof answer === "object" && answer !== null && (answer as SecurePending).status === "pending" ? null : (answer as T);
  }

  /** Sends the device's evaluation of an evaluation task's model. */
  reportEvaluation(task: Task, report: EvaluationReport, signal?: AbortSignal): Promise<{ recorded: true; evaluation?: RoundRecord["evaluation"] }> {
    if (!task.evaluationUrl) throw new Error(`task of job ${task.jobId} round ${task.round} is not an evaluation`);
    const url = task.evaluationUrl;
    return this.authed((token) => this.http.json(url, this.withTicket(jsonInit("POST", report, token), task), signal), signal);
  }

  /** Tells the job this device cannot do `task`, so that its slot goes to another device at once. */
  reportFailure(task: Task, failure: TaskFailure, signal?: AbortSignal): Promise<{ recorded: true; failed: RoundRecord["failed"] }> {
    return this.authed((token) => this.http.json(task.failureUrl, this.withTicket(jsonInit("POST", failure, token), task), signal), signal);
  }

  private withTicket(init: RequestInit, task: Task): RequestInit {
    return { ...init, headers: { ...(init.headers as Record<string, string>), [TICKET_HEADER]: task.ticket } };
  }

  /** A call with the current token; one whose token had expired all the same is made again once, enrolled anew. */
  private async authed<T>(call: (token: string) => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await call(await this.currentToken(signal));
    } catch (error) {
      if (!(error instanceof PropiusError && error.code === "token_expired")) throw error;
      await this.register();
      return call(this.credentialsOrThrow().token);
    }
  }

  private async adopt(reply: Enrolment | Credentials): Promise<Credentials> {
    const now = Date.now();
    const { clientId, token, expiresAt } = reply;
    this.credentials = expiresAt === undefined ? { clientId, token } : { clientId, token, expiresAt, renewAfter: now + Math.max(0, expiresAt - now) / 2 };
    await this.onCredentials?.(this.credentials);
    return this.credentials;
  }

  private credentialsOrThrow(): Credentials {
    if (!this.credentials) throw new Error("register the device (or load its credentials) before checking in");
    return this.credentials;
  }
}

function secureUrl(task: Task): string {
  if (!task.secure) throw new Error(`job ${task.jobId} does not aggregate securely`);
  return task.secure.url;
}
