import { DurableObject } from "cloudflare:workers";
import {
  EVENTS_PING,
  EVENTS_PONG,
  EVENTS_PROTOCOL,
  PropiusError,
  allocateWeights,
  decodeWeights,
  encodeWeights,
  parameterCount,
  sameManifest,
  type JobSpec,
  type JobStatus,
  type JobUpdate,
  type RoundRecord,
  type TaskFailure,
  type EvaluationReport,
  type UpdateReceipt,
  type Attributes,
  type JobDevice,
} from "@propius/shared";
import type { Env } from "../env.js";
import { r2ModelStore, type ModelOwner, type ModelStore } from "../models/model-store.js";
import { modelValues } from "../models/model-stream.js";
import { Deadlines } from "./deadlines.js";
import { JobCore, type ClaimResult } from "./job-core.js";
import { reply, unwrap, type Reply } from "./reply.js";
import { SqliteJobStore } from "./sqlite-job-store.js";
import { aggregatorOf, directoryOf } from "../directory/directory-client.js";
import { countUncommittedFolds, type ShardPort } from "../aggregation/combine-shards.js";
import { closeRound } from "../aggregation/round-close.js";
import type { Admission, PartialKey } from "../aggregation/partial-sum.js";
import type { CommittedGroup, FoldRecord, JobDescription, SecureBound } from "../aggregation/shard-ports.js";
import { lazyTickets } from "../auth/tickets.js";
import { lazyDeviceIds } from "../auth/device-ids.js";
import { secret } from "../middleware/auth/index.js";
import { scheduleOf } from "../directory/directory-object.js";
import { fromStream } from "../http/byte-stream.js";
import { announceJob } from "../clients/announce.js";
import { countersOf, type ObjectCounters } from "../diagnostics/object-counters.js";
import { EventFanOut } from "./event-fan-out.js";
import { JobEvents } from "./job-events.js";
import { sqliteEventLog } from "./sqlite-event-log.js";
import { endedRoundBatch, type MetricBatch } from "../metrics/metric-batch.js";

/** The header by which the Worker tells a job whose (verified) event subscription it forwards. */
export const EVENTS_TENANT_HEADER = "x-propius-tenant";

const AGGREGATION_RETRY_MS = 5_000;

export interface ModelPointer {
  hash: string;
  version: number;
  spec: JobSpec["model"];
}

/**
 * One job: a thin Durable Object adapter over JobCore, with SQLite storage, the one alarm, and
 * the R2 model store. Every method answers with a Reply so error codes survive RPC.
 */
export class JobObject extends DurableObject<Env> {
  /** The job's state machine and its events: opened when the object holds a job, or is creating one. */
  private opened: { core: JobCore; events: JobEvents } | null = null;
  private readonly models: ModelStore;
  private alarmAt: number | null | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // An id that names no job gets an object all the same: it answers job_not_found and writes
    // nothing, so that requests for made-up ids cannot fill storage.
    if (holdsJob(ctx.storage.sql)) this.openCore();
    this.models = r2ModelStore(env.MODELS);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(EVENTS_PING, EVENTS_PONG));
  }

  /** The state machine over this object's SQLite storage (its tables created if missing), and its live events. */
  private openCore(): void {
    const store = new SqliteJobStore(this.ctx.storage.sql, this.ctx.storage);
    const deadlines = new Deadlines(store, { schedule: (at) => (this.alarmAt = at) });
    const tokenSecret = () => secret(this.env.PROPIUS_TOKEN_SECRET, "PROPIUS_TOKEN_SECRET");
    const core = new JobCore(store, deadlines, { newTicket: randomToken, tickets: lazyTickets(tokenSecret), deviceIds: lazyDeviceIds(tokenSecret) });
    const fanOut = new EventFanOut(sqliteEventLog(this.ctx.storage.sql), () => this.ctx.getWebSockets());
    const events = new JobEvents(fanOut, { job: () => store.loadJob(), round: (r, a) => store.loadRound(r, a) }, () => core.status(null));
    this.opened = { core, events };
  }

  private get core(): JobCore {
    if (!this.opened) throw noSuchJob();
    return this.opened.core;
  }

  private get events(): JobEvents {
    if (!this.opened) throw noSuchJob();
    return this.opened.events;
  }

  create(input: { id: string; tenant: string; spec: JobSpec }): Promise<Reply<JobStatus>> {
    if (!this.opened) this.openCore();
    return this.run(async () => {
      const job = this.core.create({ ...input, now: Date.now() });
      await directoryOf(this.env).trackJob({ id: job.id, tenant: job.tenant, name: job.spec.name, state: job.state, createdAt: job.createdAt, schedule: scheduleOf(job.spec, job) });
      return this.core.status(input.tenant);
    });
  }

  /** Sets the initial model from a weights message or raw little-endian float32 data. */
  setInitialModel(tenant: string, stream: ReadableStream<Uint8Array>, raw: boolean): Promise<Reply<JobStatus>> {
    return this.run(async () => {
      const body = await fromStream(stream);
      const job = this.core.jobFor(tenant);
      // Refuse before storing: a refused upload must not leave a blob in the model store.
      if (job.state !== "pending_model") throw new PropiusError("model_already_set", "the job's initial model is already set");
      const specs = job.spec.model.weightSpecs;
      let values: Float32Array;
      if (raw) {
        if (body.length !== parameterCount(specs) * 4) {
          throw new PropiusError("invalid_update", `raw weights must be ${parameterCount(specs) * 4} bytes (float32, little-endian), got ${body.length}`);
        }
        values = new Float32Array(body.slice().buffer);
      } else {
        const message = decodeWeights(body);
        if (message.header.kind !== "model" || !sameManifest(message.header.tensors, specs)) {
          throw new PropiusError("invalid_update", "the weights do not match the job's weightSpecs");
        }
        values = message.values;
      }
      if (values.some((v) => !Number.isFinite(v))) throw new PropiusError("invalid_update", "the weights hold a non-finite value");
      const hash = await this.models.put(encodeWeights({ kind: "model", codec: "fp32", tensors: specs }, values), this.modelOwner());
      const updated = this.core.setInitialModel(hash, Date.now());
      await directoryOf(this.env).setJobState(updated.id, updated.state, updated.round, updated.attempt);
      this.announce();
      return this.core.status(tenant);
    });
  }

  /** `attributes`: the device's, as its client-manager shard holds them, for the job's record of its devices. */
  claim(clientId: string, attributes?: Attributes): Promise<Reply<ClaimResult>> {
    return this.run(() => this.core.claim(clientId, Date.now(), attributes));
  }

  /** The devices that took part in the job, most recently seen first (`GET /v1/jobs/:id/devices`). */
  devices(tenant: string, limit: number): Promise<Reply<JobDevice[]>> {
    return this.run(() => this.core.devices(tenant, limit));
  }

  /** What an aggregator shard learns of the job once: its tensors, weighting and mode. */
  describe(): Promise<Reply<JobDescription>> {
    return this.run(() => this.core.describe());
  }

  /** Secure aggregation: the devices bound to aggregator shard `shard` in the attempt, and whether the job binds more. */
  secureBound(key: PartialKey, shard: number): Promise<Reply<SecureBound>> {
    return this.run(() => this.core.secureBound(key, shard, Date.now()));
  }

  /** The current round's norm bound, for an aggregator shard of a job whose bound adapts. */
  clipBound(): Promise<Reply<number>> {
    return this.run(() => this.core.clipBound());
  }

  /** Buffered (FedBuff) jobs: the leave to fold an update into the current server step, with its staleness discount. */
  admitUpdate(input: { ticket: string; clientId: string; round: number }): Promise<Reply<Admission>> {
    return this.run(() => this.core.admitUpdate(input, Date.now())).then((answer) => this.noteRefusals([answer], [input.round]));
  }

  /** Counts a group of updates a shard has folded and written in one write; one answer each. */
  async commitFolds(records: FoldRecord[]): Promise<CommittedGroup> {
    const group = await this.run(() => this.core.commitFolds(records, Date.now()));
    if (group.ok) this.noteRefusals(group.value.answers, records.map((r) => r.key.round));
    if (group.ok) return group.value;
    return { answers: records.map(() => group), closed: false };
  }

  /** Adds a device's evaluation of a round's result; the last model's evaluation finishes the job. */
  reportEvaluation(input: { ticket: string; clientId: string; round: number; report: EvaluationReport }): Promise<Reply<RoundRecord>> {
    return this.run(async () => {
      const record = this.core.reportEvaluation(input, Date.now());
      await this.publishIfDone();
      return record;
    });
  }

  /** Tells the directory a job finished outside a round's close (its last evaluation closed). */
  private async publishIfDone(): Promise<void> {
    const job = this.core.jobFor(null);
    if (job.state === "done") await directoryOf(this.env).setJobState(job.id, job.state, job.round, job.attempt);
  }

  /** Frees the slot of a device that cannot do its task, and counts the failure. */
  reportFailure(input: { ticket: string; clientId: string; round: number; failure: TaskFailure }): Promise<Reply<RoundRecord>> {
    return this.run(() => {
      const record = this.core.reportFailure(input, Date.now());
      this.announce();
      return record;
    });
  }

  status(tenant: string): Promise<Reply<JobStatus>> {
    return this.run(() => this.core.status(tenant));
  }

  /** The current model, or a version this job produced, identified by hash. */
  model(tenant: string, hash?: string): Promise<Reply<ModelPointer>> {
    return this.run(() => {
      const status = this.core.status(tenant);
      if (!status.modelHash) throw new PropiusError("model_not_found", "the job has no model yet");
      const versions = [status.rounds[0]?.baseModel, ...status.rounds.filter((r) => r.status === "closed").map((r) => r.resultModel)];
      const wanted = hash ?? status.modelHash;
      const version = versions.indexOf(wanted);
      if (version < 0) throw new PropiusError("model_not_found", "this job has no model with that hash");
      return { hash: wanted, version, spec: this.core.jobFor(tenant).spec.model };
    });
  }

  recordMetrics(tenant: string, round: number, metrics: { testAccuracy?: number; testLoss?: number }): Promise<Reply<RoundRecord>> {
    return this.run(() => {
      this.core.jobFor(tenant);
      const record = this.core.recordMetrics(round, metrics);
      this.events.ownerEvaluation(this.core.jobFor(null).id, record, Date.now());
      return record;
    });
  }

  /** Changes the demand of the rounds to come, here and in the scheduler's view. */
  update(tenant: string, change: JobUpdate): Promise<Reply<JobStatus>> {
    return this.run(async () => {
      this.core.jobFor(tenant);
      const job = this.core.update(change, Date.now());
      await directoryOf(this.env).setJobSchedule(job.id, scheduleOf(job.spec, job));
      this.announce();
      return this.core.status(tenant);
    });
  }

  cancel(tenant: string): Promise<Reply<JobStatus>> {
    return this.run(async () => {
      this.core.jobFor(tenant);
      const job = this.core.cancel(Date.now());
      await directoryOf(this.env).setJobState(job.id, job.state, undefined, undefined, this.endedBatch(job.round, job.attempt));
      return this.core.status(tenant);
    });
  }

  /**
   * Deletes a job that has ended (done, cancelled or failed): its record, rounds and strategy state,
   * its aggregator shards' sums and its directory entry. Model blobs stay in the model store: they
   * are content-addressed and another job may hold the same version.
   */
  delete(tenant: string): Promise<Reply<{ deleted: true; id: string }>> {
    return this.run(async () => {
      const job = this.core.jobFor(tenant);
      if (job.state === "running" || job.state === "pending_model") throw new PropiusError("job_not_running", `the job is ${job.state}: cancel it before deleting it`);
      const shards = job.spec.plan.aggregatorShards ?? 1;
      await Promise.allSettled(Array.from({ length: shards }, (_, i) => aggregatorOf(this.env, job.id, i).release({ round: Number.MAX_SAFE_INTEGER, attempt: 0 })));
      await directoryOf(this.env).untrackJob(job.id);
      await this.ctx.storage.deleteAlarm();
      await this.ctx.storage.deleteAll();
      this.alarmAt = undefined;
      // No tables now: the object answers job_not_found from now on, as one that never held a job.
      this.opened = null;
      for (const ws of this.ctx.getWebSockets()) closeQuietly(ws, 1000, "the job was deleted");
      return { deleted: true as const, id: job.id };
    });
  }

  /** What this object has done since it started (see `GET /v1/admin/counters`), and the shards it has. */
  counters(): Promise<Reply<ObjectCounters & { aggregatorShards: number }>> {
    return reply(() => ({ ...countersOf("JobObject", this, this.ctx.storage.sql), aggregatorShards: this.core.jobFor(null).spec.plan.aggregatorShards ?? 1 }));
  }

  override async alarm(): Promise<void> {
    if (!this.opened) return;
    await this.events.observe(() => this.runAlarm(), Date.now);
  }

  private async runAlarm(): Promise<void> {
    await this.countUncommittedFolds();
    const before = this.core.jobFor(null).state;
    const retried = this.core.onAlarm(Date.now());
    if (before !== "done") await this.publishIfDone();
    // A retried attempt is news for the scheduler (tier matching never reserves one for fast devices).
    if (retried) {
      await directoryOf(this.env).setJobState(retried.id, retried.state, retried.round, retried.attempt, this.endedBatch(retried.round, retried.attempt - 1), this.core.currentDemand());
      this.announce();
    }
    await this.aggregateIfDue();
    await this.flushAlarm();
  }

  /** Before a round's deadline decides close or retry: counts updates the shards folded whose commit never came. */
  private async countUncommittedFolds(): Promise<void> {
    const jobId = this.core.jobFor(null).id;
    try {
      await countUncommittedFolds(this.core, Date.now(), (i) => this.shard(jobId, i));
    } catch (error) {
      // The decision then rests on the committed count alone, as it would without shards.
      console.error("could not read the aggregator shards before the round's deadline", error);
    }
  }

  /** Aggregator shard `index` of the job, as `combineShards` and `countUncommittedFolds` call it. */
  private shard(jobId: string, index: number): ShardPort {
    const stub = aggregatorOf(this.env, jobId, index);
    return {
      folded: (key) => unwrap(stub.folded(key)),
      seal: (key) => unwrap(stub.seal(key)),
      sum: (key) => unwrap(stub.sum(key)) as Promise<AsyncIterable<Uint8Array>>,
    };
  }

  /** Whether a device may read this job's model versions by hash (spec `modelAccess`). */
  mayReadModel(clientId: string): Promise<Reply<boolean>> {
    return this.run(() => this.core.mayReadModel(clientId));
  }

  /** The job as the owner of its model versions, when its spec keeps them to its own devices. */
  private modelOwner(): ModelOwner | undefined {
    const job = this.core.jobFor(null);
    return job.spec.modelAccess === "bound" ? { job: job.id, tenant: job.tenant } : undefined;
  }

  /** Closes the pending round (see `closeRound`), and tells the scheduler the round the job runs now. */
  private async aggregateIfDue(): Promise<void> {
    const pending = this.core.pendingAggregation();
    if (!pending) return;
    try {
      const started = Date.now();
      const closed = await closeRound(this.core, {
        shard: (i) => this.shard(pending.jobId, i),
        baseModel: async (hash) => {
          const base = await this.models.getStream(hash);
          if (!base) throw new Error(`base model ${hash} is missing from the model store`);
          return modelValues(base as unknown as AsyncIterable<Uint8Array>, pending.tensors);
        },
        storeModel: (bytes) => this.models.put(bytes, this.modelOwner()),
        release: (i, key) => unwrap(aggregatorOf(this.env, pending.jobId, i).release(key)),
        now: () => Date.now(),
      });
      if (closed) {
        // Subscribers hear of the round's close before the directory does.
        this.events.flush(Date.now());
        const ended = this.endedBatch(pending.key.round, pending.key.attempt, (Date.now() - started) / 1000);
        await directoryOf(this.env).setJobState(closed.job.id, closed.job.state, closed.job.round, closed.job.attempt, ended, this.core.currentDemand());
        if (closed.job.state === "running") this.announce();
      }
    } catch (error) {
      console.error(`aggregation of round ${pending.key.round} failed; retrying`, error);
      this.core.deferAggregation(Date.now() + AGGREGATION_RETRY_MS);
    }
  }

  /** The figures of a round attempt that ended, for the directory's metrics (see `endedRoundBatch`). */
  private endedBatch(round: number, attempt: number, aggregationSeconds?: number): MetricBatch | null {
    const record = this.core.roundAttempt(round, attempt);
    return record ? endedRoundBatch(this.core.jobFor(null).id, record, aggregationSeconds) : null;
  }

  /**
   * Tells the client-manager shards the job has room (a round or evaluation opened, a slot freed),
   * so that devices waiting on push connections are bound now; the reply does not wait for it.
   */
  private announce(): void {
    const job = this.core.jobFor(null);
    this.ctx.waitUntil(announceJob(this.env, job.id));
  }

  /** Publishes the refusals among a group's answers (the job's state did not change for them). */
  private noteRefusals<T>(answers: Reply<T>[], rounds: number[]): Reply<T> {
    if (answers.every((a) => a.ok)) return answers[0];
    let job: { id: string };
    try {
      job = this.core.jobFor(null);
    } catch {
      return answers[0];
    }
    answers.forEach((answer, i) => answer.ok || this.events.refused(job.id, rounds[i], answer.error.code, Date.now()));
    return answers[0];
  }

  /**
   * An owner's event subscription (`GET /v1/jobs/:id/events`), forwarded by the Worker once it has
   * checked the subscription token: a hibernatable WebSocket, sent the job's state (or the events
   * it missed, `?since=`) and then every event. Keep-alive pings are answered by the platform, so
   * an idle job with subscribers leaves memory while their connections stay open.
   */
  override async fetch(request: Request): Promise<Response> {
    const tenant = request.headers.get(EVENTS_TENANT_HEADER);
    if (!tenant || request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response(null, { status: 400 });
    const found = await reply(() => this.core.jobFor(tenant));
    if (!found.ok) return Response.json({ error: found.error }, { status: 404 });
    const since = Number(new URL(request.url).searchParams.get("since") ?? "NaN");
    const [client, server] = Object.values(new WebSocketPair());
    this.events.attach(() => (this.ctx.acceptWebSocket(server), server), found.value.id, Number.isSafeInteger(since) && since >= 0 ? since : null, Date.now());
    return new Response(null, { status: 101, webSocket: client, headers: { "sec-websocket-protocol": EVENTS_PROTOCOL } });
  }

  /** Subscribers send keep-alive pings only (answered by the platform); anything else is ignored. */
  override async webSocketMessage(): Promise<void> {}

  override async webSocketClose(ws: WebSocket): Promise<void> {
    closeQuietly(ws, 1000, "closed");
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    closeQuietly(ws, 1011, "connection error");
  }

  private async run<T>(fn: () => T | Promise<T>): Promise<Reply<T>> {
    if (!this.opened) return reply<T>(() => {
      throw noSuchJob();
    });
    const result = await this.events.observe(() => reply(fn), Date.now);
    await this.flushAlarm();
    return result;
  }

  /** Mirrors the earliest named deadline onto the Durable Object's one alarm. */
  private async flushAlarm(): Promise<void> {
    if (this.alarmAt === undefined) return;
    const at = this.alarmAt;
    this.alarmAt = undefined;
    if (at === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(at);
  }
}

function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    /* already closed */
  }
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_");
}

const noSuchJob = () => new PropiusError("job_not_found", "no such job");

/** Whether this object's storage holds a job (its tables exist): a read of the schema, no write. */
function holdsJob(sql: DurableObjectStorage["sql"]): boolean {
  return sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").toArray().length > 0;
}
