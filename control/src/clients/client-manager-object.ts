import { DurableObject } from "cloudflare:workers";
import { PUSH_PING, PUSH_PONG, PUSH_PROTOCOL, PropiusError, type Attributes, type CheckInReply } from "@propius/shared";
import type { Env } from "../env.js";
import { directoryOf, jobOf } from "../directory/directory-client.js";
import { reply, unwrap, type Reply } from "../job/reply.js";
import { toTask } from "../scheduling/task.js";
import { schedulingPolicy, viewTtlMs } from "../scheduling/config.js";
import { ClientManager, type ClaimAnswer } from "./client-manager.js";
import { SqliteClientRegistry } from "./sqlite-client-registry.js";
import { PushHub, type OfferedJobs, type PushSocket, type Recheck } from "./push-hub.js";
import { SocketStates } from "./socket-states.js";
import { revocations } from "./revocations.js";
import { enrolmentScopes } from "./enrolment-scopes.js";

/** The header by which the Worker tells a shard whose (verified) push connection it forwards. */
export const PUSH_CLIENT_HEADER = "x-propius-client";

/** Push connections one shard holds at most; a device beyond them checks in over HTTP. */
export const PUSH_SOCKETS_PER_SHARD = 8_192;

/** What a push connection keeps across hibernation (its attachment). */
interface SocketState {
  clientId: string;
  waitingSince: number | null;
  offered?: OfferedJobs | null;
}
import { countersOf, type ObjectCounters } from "../diagnostics/object-counters.js";
import { ShardMetrics, metricsFlushMs } from "../metrics/shard-metrics.js";


/**
 * One client-manager shard: a thin Durable Object adapter over ClientManager and PushHub, with
 * SQLite storage for the registry and bindings, the directory's job list, and the jobs' atomic
 * claims. Push connections are hibernatable WebSockets: a shard with nothing to do leaves memory
 * while they stay open (keep-alive pings are answered by the platform). Its one alarm runs two
 * named duties: pruning devices not heard from within the registry's TTL, and rechecking waiting
 * devices when a wait may end by time alone.
 */
export class ClientManagerObject extends DurableObject<Env> {
  private built: { manager: ClientManager; hub: PushHub } | undefined;
  private readonly states = new SocketStates<SocketState>();
  /** The alarm as this isolate last set or read it (undefined: not known yet). */
  private alarmAt: number | null | undefined;
  private prunedAt = 0;
  private metrics: ShardMetrics | undefined;
  private revoked_: ReturnType<typeof revocations> | undefined;
  private scopes_: ReturnType<typeof enrolmentScopes> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PUSH_PING, PUSH_PONG));
  }

  /**
   * The operator revokes a device's token: its check-ins, pings and push connections are refused
   * from now on (its open connection is closed), until `until`, when every token it holds has expired.
   */
  revoke(clientId: string, until: number): Promise<Reply<{ closed: number }>> {
    return reply(() => {
      this.revocations().revoke(clientId, Date.now(), until);
      const sockets = this.ctx.getWebSockets(clientId);
      for (const ws of sockets) closeQuietly(ws, 4401, "token_revoked");
      return { closed: sockets.length };
    });
  }

  /** A device enrolled with an enrolment token: its scope, which its check-ins carry from now on. */
  setScope(clientId: string, scope: string): Promise<Reply<true>> {
    return reply(() => {
      this.scopes().set(clientId, scope);
      return true as const;
    });
  }

  revoked(clientId: string): Promise<Reply<boolean>> {
    return reply(() => this.revocations().isRevoked(clientId, Date.now()));
  }

  checkIn(clientId: string, attributes: Attributes, accept?: string): Promise<Reply<CheckInReply>> {
    return reply(async () => {
      this.refuseRevoked(clientId);
      const answer = await this.parts().manager.checkIn(clientId, attributes, Date.now(), accept);
      await this.alarmBy(Date.now() + this.parts().manager.attributeTtlMs);
      await this.armMetrics();
      return answer;
    });
  }

  ping(clientId: string, attributes?: Attributes): Promise<Reply<{ known: boolean; ttlMs: number }>> {
    return reply(async () => {
      this.refuseRevoked(clientId);
      const answer = this.parts().manager.ping(clientId, Date.now(), attributes);
      await this.armMetrics();
      return answer;
    });
  }

  /** A job has news for waiting devices (a round opened, a slot freed): push them what they would check in for. */
  announce(jobId: string): Promise<Reply<Recheck>> {
    return reply(async () => {
      const result = await this.recheck(jobId);
      // Devices it bound are counted: the alarm reports them.
      await this.armMetrics();
      return result;
    });
  }

  /** A push connection, forwarded by the Worker once it has verified the device's token. */
  override async fetch(request: Request): Promise<Response> {
    const clientId = request.headers.get(PUSH_CLIENT_HEADER);
    if (!clientId || request.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response(null, { status: 400 });
    if (this.revocations().isRevoked(clientId, Date.now())) return Response.json(REVOKED.toBody(), { status: REVOKED.status });
    // One connection per device: a reconnecting device replaces its old one.
    for (const old of this.ctx.getWebSockets(clientId)) old.close(1000, "replaced by a newer connection");
    if (this.ctx.getWebSockets().length >= PUSH_SOCKETS_PER_SHARD) {
      return Response.json(new PropiusError("push_unavailable", "this shard holds as many push connections as it takes; check in over HTTP").toBody(), { status: 503 });
    }
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server, [clientId]);
    this.states.write(server, { clientId, waitingSince: null });
    return new Response(null, { status: 101, webSocket: client, headers: { "sec-websocket-protocol": PUSH_PROTOCOL } });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.parts().hub.receive(this.pushSocket(ws), message, Date.now());
    await this.scheduleRecheck();
    await this.armMetrics();
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    closeQuietly(ws, 1000, "closed");
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    closeQuietly(ws, 1011, "connection error");
  }

  /** What this object has done since it started (see `GET /v1/admin/counters`). */
  async counters(): Promise<ObjectCounters> {
    return countersOf("ClientManagerObject", this, this.ctx.storage.sql);
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const now = Date.now();
    const { manager, hub } = this.parts();
    if (now - this.prunedAt >= manager.attributeTtlMs / 2) {
      manager.prune(now);
      this.prunedAt = now;
    }
    // The alarm may have been set for a wait that an announcement has ended since: then only the next one is set.
    if (hub.recheckDue(now)) await this.recheck();
    else await this.scheduleRecheck();
    await this.metrics?.flush(manager, now);
    await this.alarmBy(now + manager.attributeTtlMs);
  }

  /** After activity: the alarm reports the shard's counts and figures within a flush interval (see ShardMetrics). */
  private async armMetrics(): Promise<void> {
    const at = this.metrics?.dueAt(Date.now());
    if (at != null) await this.alarmBy(at);
  }

  /** Binds waiting devices now (after an announcement, or when a wait is up), and notes when to look again. */
  private async recheck(announced?: string): Promise<Recheck> {
    const sockets = this.ctx.getWebSockets().map((ws) => this.pushSocket(ws));
    const result = await this.parts().hub.recheck(sockets, Date.now(), announced);
    await this.scheduleRecheck();
    return result;
  }

  private async scheduleRecheck(): Promise<void> {
    const at = this.parts().hub.recheckAt;
    if (at !== null) await this.alarmBy(at);
  }

  /** Moves the one alarm earlier to `at` if it is later or unset. */
  private async alarmBy(at: number): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    await this.ctx.storage.setAlarm(at);
    this.alarmAt = at;
  }

  private scopes(): ReturnType<typeof enrolmentScopes> {
    return (this.scopes_ ??= enrolmentScopes(this.ctx.storage.sql));
  }

  private revocations(): ReturnType<typeof revocations> {
    return (this.revoked_ ??= revocations(this.ctx.storage.sql));
  }

  private refuseRevoked(clientId: string): void {
    if (this.revocations().isRevoked(clientId, Date.now())) throw REVOKED;
  }

  /** Built on first use, inside a reply, so that a configuration error reaches the caller with its code. */
  private parts(): { manager: ClientManager; hub: PushHub } {
    if (this.built) return this.built;
    this.metrics = new ShardMetrics(this.ctx.id.toString(), (report) => directoryOf(this.env).reportShard(report), metricsFlushMs(this.env));
    const manager = new ClientManager({
      registry: new SqliteClientRegistry(this.ctx.storage.sql),
      policy: schedulingPolicy(this.env),
      loadJobs: () => directoryOf(this.env).scheduledJobs(),
      tally: this.metrics.tally,
      claim: (jobId, clientId, attributes) => claim(this.env, jobId, clientId, attributes),
      config: { viewTtlMs: viewTtlMs(this.env) },
      connected: () => this.waitingClients(),
      scopeOf: (clientId) => this.scopes().get(clientId),
    });
    this.built = { manager, hub: new PushHub(manager) };
    return this.built;
  }

  private *waitingClients(): Iterable<string> {
    for (const ws of this.ctx.getWebSockets()) {
      const state = this.states.of(ws);
      if (state?.waitingSince != null) yield state.clientId;
    }
  }

  /** A hibernatable WebSocket as the hub sees it; its state lives in the attachment, so it survives the shard leaving memory. */
  private pushSocket(ws: WebSocket): PushSocket {
    const states = this.states;
    const state = states.of(ws)!;
    return {
      clientId: state.clientId,
      get waitingSince() {
        return states.of(ws)!.waitingSince;
      },
      setWaiting(since) {
        if (states.of(ws)!.waitingSince !== since) states.write(ws, { ...states.of(ws)!, waitingSince: since });
      },
      get offered() {
        return states.of(ws)!.offered ?? null;
      },
      setOffered(offered) {
        if ((states.of(ws)!.offered ?? null) !== offered) states.write(ws, { ...states.of(ws)!, offered });
      },
      send(message) {
        // A socket that closed meanwhile has nobody to tell; the device checks in again when it reconnects.
        try {
          ws.send(JSON.stringify(message));
        } catch {
          /* closed */
        }
      },
      close: (code, reason) => closeQuietly(ws, code, reason),
    };
  }
}

const REVOKED = new PropiusError("token_revoked", "this device's token was revoked by the operator");

function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    /* already closed */
  }
}

/** A job's claim as the client manager sees it: a job that refuses with an error simply has no slot. */
async function claim(env: Env, jobId: string, clientId: string, attributes: Attributes): Promise<ClaimAnswer> {
  try {
    const result = await unwrap(jobOf(env, jobId).claim(clientId, attributes));
    return result.kind === "task" ? { kind: "task", task: toTask(jobId, result) } : result;
  } catch (error) {
    if (error instanceof PropiusError) return { kind: "wait", reason: error.code, retryAfterMs: 10_000 };
    throw error;
  }
}
