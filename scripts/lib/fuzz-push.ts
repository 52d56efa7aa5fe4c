import { randomBytes } from "node:crypto";
import { WebSocket } from "ws";
import { EVENTS_PROTOCOL, PUSH_MESSAGE_LIMIT, PUSH_PROTOCOL, PUSH_TOKEN_PREFIX } from "@propius/shared";
import { signSubscription } from "../../control/src/auth/subscriptions.js";
import type { Chance } from "./fuzz-random.js";
import type { FuzzRequest } from "./fuzz-requests.js";
import type { Outcome } from "./fuzz-send.js";
import type { World } from "./fuzz-world.js";

/**
 * Hostile WebSocket traffic: handshakes for the device's push connection (`GET /v1/connect`) and
 * an owner's events (`GET /v1/jobs/{id}/events`) with missing, wrong, forged and expired
 * credentials and subprotocols; and frames on an open push connection that no check-in could be
 * made of (see shared/src/push.ts): JSON that does not parse or nests too deep, frames over
 * PUSH_MESSAGE_LIMIT, binary frames, check-ins of the wrong shape.
 */
export function hostileHandshake(world: World, rng: Chance): FuzzRequest {
  const events = rng.chance(0.5);
  const jobId = rng.pick([world.jobId, world.jobId, world.other.jobId]);
  const subscription = (claims: { jobId: string; tenant: string; expiresAt: number }, secret = world.tokenSecret) => signSubscription(secret, claims);
  const now = Date.now();
  const [mutation, protocols] = events
    ? rng.pick<[string, string | undefined]>([
        ["no subprotocol", undefined],
        ["a wrong subprotocol", "chat, superchat"],
        ["no subscription token", EVENTS_PROTOCOL],
        ["an expired subscription token", `${EVENTS_PROTOCOL}, ${PUSH_TOKEN_PREFIX}${subscription({ jobId, tenant: world.owner.tenant, expiresAt: now - 1_000 })}`],
        ["a subscription token for another job", `${EVENTS_PROTOCOL}, ${PUSH_TOKEN_PREFIX}${subscription({ jobId: world.other.jobId === jobId ? world.jobId : world.other.jobId, tenant: world.owner.tenant, expiresAt: now + 60_000 })}`],
        ["a forged subscription token", `${EVENTS_PROTOCOL}, ${PUSH_TOKEN_PREFIX}${subscription({ jobId, tenant: world.owner.tenant, expiresAt: now + 60_000 }, "not-the-secret")}`],
        ["a garbage subscription token", `${EVENTS_PROTOCOL}, ${PUSH_TOKEN_PREFIX}es.${"A".repeat(rng.pick([3, 3_000]))}.x`],
      ])
    : rng.pick<[string, string | undefined]>([
        ["no subprotocol", undefined],
        ["a wrong subprotocol", "propius.v0"],
        ["no token", PUSH_PROTOCOL],
        ["a garbage token", `${PUSH_PROTOCOL}, ${PUSH_TOKEN_PREFIX}ct_x.y`],
        ["an API key as the token", `${PUSH_PROTOCOL}, ${PUSH_TOKEN_PREFIX}${world.owner.apiKey}`],
        ["a tampered token", `${PUSH_PROTOCOL}, ${PUSH_TOKEN_PREFIX}ct_${world.unused.clientId}.${world.waiting[3].token.split(".")[1]}`],
      ]);
  const headers: Record<string, string> = { upgrade: "websocket", connection: "Upgrade", "sec-websocket-version": rng.pick(["13", "13", "8", "x"]), "sec-websocket-key": randomBytes(16).toString("base64") };
  if (protocols !== undefined) headers["sec-websocket-protocol"] = protocols;
  const template = events ? "/v1/jobs/{id}/events" : "/v1/connect";
  return { route: `GET ${template}`, method: "GET", path: events ? `/v1/jobs/${jobId}/events` : "/v1/connect", headers, transport: "raw", mutation: `handshake: ${mutation}`, mustRefuse: true };
}

/** Frames no check-in can be made of, each with what it is. */
function hostileFrame(rng: Chance): [string, string | Buffer] {
  const depth = rng.pick([65, 1_000, 50_000]);
  return rng.pick<[string, string | Buffer]>([
    ["JSON that does not parse", rng.pick(["{", "not json", "{\"type\":\"checkin\",", "\u0000", "'x'"])],
    [`JSON nested ${depth} deep`, `{"type":"checkin","id":1,"attributes":${"[".repeat(depth)}${"]".repeat(depth)}}`],
    ["a frame over the limit", JSON.stringify({ type: "checkin", id: 1, attributes: { x: "A".repeat(PUSH_MESSAGE_LIMIT) } })],
    ["a binary frame", randomBytes(rng.pick([1, 64, 4_096]))],
    ["a check-in without an id", JSON.stringify({ type: "checkin", attributes: {} })],
    ["a check-in with a bad id", JSON.stringify({ type: "checkin", id: rng.pick([-1, 1.5, "1", 2 ** 60, null]), attributes: {} })],
    ["a check-in with attributes of the wrong type", JSON.stringify({ type: "checkin", id: 1, attributes: rng.pick(["x", 5, [1], null]) })],
    ["a check-in accepting a job of the wrong shape", JSON.stringify({ type: "checkin", id: 1, attributes: {}, accept: rng.pick([5, "job_!", {}]) })],
    ["an unknown message type", JSON.stringify({ type: rng.pick(["nope", "reply", "error", ""]), id: 1 })],
    ["JSON that is not an object", rng.pick(["[]", "null", "123", "\"checkin\"", "true"])],
  ]);
}

/** An open push connection of one waiting device, sent a hostile frame at a time. */
export class PushProbe {
  private socket: WebSocket | null = null;
  private pending: ((outcome: Omit<Outcome, "ms">) => void) | null = null;

  constructor(private readonly world: World, private readonly token: string) {}

  private async open(): Promise<WebSocket> {
    if (this.socket?.readyState === WebSocket.OPEN) return this.socket;
    const url = this.world.url.replace(/^http/, "ws") + "/v1/connect";
    const socket = new WebSocket(url, [PUSH_PROTOCOL, `${PUSH_TOKEN_PREFIX}${this.token}`]);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
      socket.once("unexpected-response", (_req, res) => reject(new Error(`push handshake answered ${res.statusCode}`)));
    });
    socket.on("message", (data) => {
      let code: string | undefined;
      try {
        const message = JSON.parse(String(data)) as { type?: string; error?: { code?: string } };
        code = message.type === "error" ? message.error?.code : `unexpected ${message.type}`;
      } catch {
        code = `not JSON: ${String(data).slice(0, 40)}`;
      }
      this.pending?.({ status: null, code });
    });
    socket.on("close", (closeCode) => {
      this.pending?.(closeCode === 1009 ? { status: null, code: "closed 1009 (too big)" } : { status: null, failure: `closed ${closeCode}` });
      this.socket = null;
    });
    socket.on("error", () => undefined);
    return (this.socket = socket);
  }

  /** Sends one hostile frame and waits for the error it gets (or the close, for a frame over the limit). */
  async send(rng: Chance): Promise<{ outcome: Outcome; mutation: string }> {
    const [mutation, frame] = hostileFrame(rng);
    const started = performance.now();
    let outcome: Omit<Outcome, "ms">;
    try {
      const socket = await this.open();
      outcome = await new Promise((resolve) => {
        const timer = setTimeout(() => resolve({ status: null, failure: "no answer to the frame in 10 s" }), 10_000);
        this.pending = (o) => (clearTimeout(timer), (this.pending = null), resolve(o));
        socket.send(frame);
      });
    } catch (error) {
      outcome = { status: null, failure: `push connection: ${(error as Error).message}` };
    }
    return { outcome: { ...outcome, ms: Math.round(performance.now() - started) }, mutation: `frame: ${mutation}` };
  }

  close(): void {
    this.socket?.close();
  }
}
