import { MAX_JSON_DEPTH, PUSH_MESSAGE_LIMIT, PropiusError, nestsDeeperThan, type ErrorCode, pushCheckInSchema, type CheckInReply, type JobOffer, type PushMessage } from "@propius/shared";
import { parseWith } from "../middleware/validate/index.js";
import type { ClientManager } from "./client-manager.js";

/** A device's push connection as the hub sees it; the shard adapts a hibernatable WebSocket to it. */
export interface PushSocket {
  readonly clientId: string;
  /** When the device began waiting for a push (its last reply was not a task), or null while it works. */
  readonly waitingSince: number | null;
  setWaiting(since: number | null): void;
  /** The jobs the device was last offered, until the offer's retry time: it took none of them. */
  readonly offered: OfferedJobs | null;
  setOffered(offered: OfferedJobs | null): void;
  send(message: PushMessage): void;
  close(code: number, reason: string): void;
}

export interface OfferedJobs {
  jobs: string[];
  until: number;
}

/**
 * How long a device that waits on its connection may stay silent: it only renews its attributes
 * (within the registry's TTL), since the shard pushes what it would have checked in for.
 */
export const PUSH_WAIT_RETRY_MS = 4 * 60_000;

/** How long a wave of offers of a job waits for its devices' answers before the next wave is sent. */
export const OFFER_WAVE_MS = 1_000;

/** Waits that only an announcement ends (a new job, a job that becomes eligible): the shard has nothing to recheck. */
const ANNOUNCED_ONLY = new Set(["no_jobs", "no_eligible_job"]);
/**
 * The wait of a device that has reported in its job's current round: the round ends when its job
 * closes it (or retries it at its deadline), and the job announces the round it opens then.
 */
const ALREADY_REPORTED = "already_reported";

export interface Recheck {
  /** Devices waiting on a connection, and how many were sent a task or an offer. */
  waiting: number;
  pushed: number;
}

/**
 * Check-ins over push connections, free of any platform import. A check-in on the socket is the
 * HTTP check-in (same client manager, same replies, same errors); a device told to wait stays
 * connected and silent, and `recheck` binds waiting devices (oldest wait first) when a job
 * announces room or a wait's time is up, until no job has room.
 */
export class PushHub {
  /** When the earliest wait of a device on a connection ends by time (tier windows, a round's deadline). */
  private nextRecheck: number | null = null;
  /** Whether this hub has rechecked every waiting device: from then on it knows every wait's end. */
  private rechecked = false;

  constructor(private readonly manager: ClientManager) {}

  /** A frame from a device: a check-in, answered on the socket; anything else gets an error and changes nothing. */
  async receive(socket: PushSocket, data: string | ArrayBuffer, now: number): Promise<void> {
    if (typeof data !== "string") return socket.send(failure(undefined, "invalid_message", "send check-ins as JSON text frames"));
    if (data.length > PUSH_MESSAGE_LIMIT) return socket.close(1009, `frames are limited to ${PUSH_MESSAGE_LIMIT} characters`);
    let id: number | undefined;
    try {
      const body = parseJson(data);
      id = idOf(body);
      const { attributes, accept } = parseWith(pushCheckInSchema, body);
      // A device that checks in has answered its last offer (taken one, or looks again).
      socket.setOffered(null);
      this.deliver(socket, await this.manager.checkIn(socket.clientId, attributes, now, accept, "push"), now, id);
    } catch (error) {
      if (!(error instanceof PropiusError)) throw error;
      socket.send({ type: "error", id, ...error.toBody() });
    }
  }

  /**
   * Binds devices waiting on their connections, oldest wait first, while any job has room: after
   * `announced` (a job whose round opened or whose slot freed) or when a wait's time is up.
   */
  async recheck(sockets: readonly PushSocket[], now: number, announced?: string): Promise<Recheck> {
    if (announced !== undefined) this.manager.reopen(announced);
    this.nextRecheck = null;
    // A device that left an offer open was offered those jobs within its retry time and took none: its
    // private attributes do not meet them, so news of one of them is not pushed to it again (it checks
    // in by itself when its wait is up).
    const declined = (s: PushSocket) => s.offered !== null && s.offered.until > now && (announced === undefined || s.offered.jobs.includes(announced));
    const waiting = sockets.filter((s) => s.waitingSince !== null && !declined(s)).sort((a, b) => a.waitingSince! - b.waitingSince!);
    let pushed = 0;
    // An offer claims no slot: a job is offered to at most as many waiting devices as it has slots per wave.
    const offers = new Map<string, number>();
    for (const socket of waiting) {
      if (!(await this.manager.hasRoom(now))) {
        // The rest wait on: for a round to open (announced) or for a full job's slots to free (its refusal said when).
        const reopensAt = this.manager.reopensAt(now);
        if (reopensAt !== null) this.laterAt(reopensAt);
        break;
      }
      const reply = await this.manager.checkInKnown(socket.clientId, now);
      if (reply === null) continue;
      if (reply.status !== "wait") pushed += 1;
      if (reply.status === "offer") this.countOffers(reply.offers, offers, now);
      // A device still waiting is told nothing: it went on waiting already.
      this.deliver(socket, reply, now, undefined, reply.status !== "wait");
    }
    this.rechecked = true;
    return { waiting: waiting.length, pushed };
  }

  /**
   * Whether a timed recheck is due at `now`. An alarm set for a wait that an announcement has
   * since ended finds nothing due, and costs no claims; a hub that has not rechecked yet (its
   * shard has just started) cannot know the waits told before, so for it a recheck is always due.
   */
  recheckDue(now: number): boolean {
    return !this.rechecked || (this.nextRecheck !== null && this.nextRecheck <= now);
  }

  /** When the shard should recheck waiting devices (null: only an announcement can help them). */
  get recheckAt(): number | null {
    return this.nextRecheck;
  }

  /** Sends a reply; a device told to wait is told to stay connected and silent, and the shard notes when to look again. */
  private deliver(socket: PushSocket, reply: CheckInReply, now: number, id?: number, send = true): void {
    if (reply.status === "task") {
      socket.setWaiting(null);
      socket.setOffered(null);
      socket.send({ type: "reply", id, reply });
      return;
    }
    // An offer stays open: a device that takes none waits on for news of other jobs, or its retry time.
    if (socket.waitingSince === null) socket.setWaiting(now);
    if (reply.status === "offer") socket.setOffered({ jobs: reply.offers.map((o) => o.jobId), until: now + reply.retryAfterMs });
    if (reply.status === "wait") {
      if (reply.reason === ALREADY_REPORTED) {
        // Its job's next round (or retried attempt) is announced when it opens: only another job
        // that refused the device as full may have room by time alone.
        const reopensAt = this.manager.reopensAt(now);
        if (reopensAt !== null) this.laterAt(reopensAt);
      } else if (!ANNOUNCED_ONLY.has(reply.reason)) this.laterAt(now + reply.retryAfterMs);
      if (send) socket.send({ type: "reply", id, reply: { ...reply, retryAfterMs: PUSH_WAIT_RETRY_MS } });
      return;
    }
    socket.send({ type: "reply", id, reply });
  }

  private countOffers(jobs: readonly JobOffer[], offers: Map<string, number>, now: number): void {
    for (const { jobId } of jobs) {
      const count = (offers.get(jobId) ?? 0) + 1;
      offers.set(jobId, count);
      if (count < this.manager.capacityOf(jobId)) continue;
      this.manager.holdOffers(jobId, now + OFFER_WAVE_MS);
      this.laterAt(now + OFFER_WAVE_MS);
    }
  }

  private laterAt(at: number): void {
    if (this.nextRecheck === null || at < this.nextRecheck) this.nextRecheck = at;
  }
}

function parseJson(data: string): unknown {
  if (nestsDeeperThan(data)) throw new PropiusError("invalid_json", `the frame nests deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(data);
  } catch {
    throw new PropiusError("invalid_json", "the frame is not valid JSON");
  }
}

/** The id of a check-in frame, if it has a usable one, so that even a refused frame's error is paired with it. */
function idOf(body: unknown): number | undefined {
  const id = typeof body === "object" && body !== null ? (body as { id?: unknown }).id : undefined;
  return typeof id === "number" && Number.isSafeInteger(id) && id >= 0 ? id : undefined;
}

function failure(id: number | undefined, code: ErrorCode, message: string): PushMessage {
  return { type: "error", id, error: { code, message } };
}
