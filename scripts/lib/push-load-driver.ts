import { PUSH_PING, PUSH_PONG, PUSH_PROTOCOL, PUSH_TOKEN_PREFIX, PropiusError, type CheckInReply } from "@propius/shared";
import { PushSession, type WebSocketConnector, type WebSocketLike } from "@propius/edge-runtime";
import { chosenOffer, closedLoop, emptyFigures, failure, report, type Ceiling, type LoadDevice, type LoadFigures, type LoadOptions } from "./load-driver.js";

/** At most `n` operations at a time; the rest queue in order. */
class Lanes {
  private free: number;
  private readonly queued: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.queued.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.queued.shift();
      if (next) next();
      else this.free += 1;
    }
  }
}

/** Opens every device's push connection, `concurrency` at a time; the first failure stops it. */
export async function connectDevices(url: string, devices: readonly LoadDevice[], connector: WebSocketConnector, concurrency: number): Promise<PushSession[]> {
  const sessions: PushSession[] = new Array(devices.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < devices.length; i = next++) {
        try {
          sessions[i] = await PushSession.open(connector, url, devices[i].token, { timeoutMs: 30_000 });
        } catch (error) {
          const open = sessions.filter((s) => s?.open).length;
          throw new Error(`push connection ${i + 1} of ${devices.length} failed with ${open} open: ${(error as Error).message}`, { cause: error });
        }
      }
    }),
  );
  return sessions;
}

/**
 * Drives devices that hold push connections for `seconds`, with `concurrency` check-in frames or
 * reports in flight at most: each device checks in over its connection, takes a task (accepting an
 * offer when it meets the private constraints) and reports a delta over HTTP at once; a device
 * told to wait stays connected and silent until its shard pushes it a task or an offer (or its
 * wait's renewal time comes, when it checks in again).
 */
export async function drivePushDevices(options: LoadOptions & { sessions: readonly PushSession[] }): Promise<LoadFigures> {
  const { url, devices, tensors, sessions } = options;
  const figures = emptyFigures();
  const lanes = new Lanes(options.concurrency);
  const started = performance.now();
  const end = started + options.seconds * 1000;

  const checkIn = (device: LoadDevice, session: PushSession, accept?: string): Promise<CheckInReply> =>
    lanes.run(async () => {
      const t0 = performance.now();
      figures.checkIns += 1;
      const reply = await session.checkIn(device.attributes, accept);
      figures.checkInMs.push(performance.now() - t0);
      return reply;
    });

  async function live(device: LoadDevice, session: PushSession): Promise<void> {
    let reply: CheckInReply | null = null;
    while (performance.now() < end) {
      try {
        reply ??= await checkIn(device, session);
        if (reply.status === "offer") {
          figures.offers += 1;
          const chosen = chosenOffer(device, reply.offers);
          if (chosen) {
            reply = await checkIn(device, session, chosen.jobId);
            continue;
          }
        }
        if (reply.status === "task") {
          const task = reply.task;
          figures.bindings += 1;
          session.discardPushes();
          await lanes.run(() => report(url, device, task, tensors, figures));
          reply = null;
          continue;
        }
        // Told to wait (or no offer it can take): silent on the connection until a push, or until the wait is up.
        const waitMs = Math.min(reply.retryAfterMs, end - performance.now());
        reply = waitMs > 0 ? await session.nextPush(waitMs) : null;
        if (reply) figures.pushes += 1;
      } catch (error) {
        failure(figures, error instanceof PropiusError ? `error frame ${error.code}: ${error.message.slice(0, 120)}` : String(error));
        if (!session.open) return;
        reply = null;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  }

  await Promise.all(devices.map((device, i) => live(device, sessions[i])));
  figures.seconds = (performance.now() - started) / 1000;
  return figures;
}

/**
 * Keep-alive frames per second over `concurrency` push connections, one frame in flight on each:
 * the platform answers them without running the shard, so this is the frame path's ceiling (the
 * dev proxy and workerd), as the trivial route is the HTTP path's. Closes the connections after.
 */
export async function trivialFrameRate(url: string, tokens: readonly string[], connector: WebSocketConnector, seconds: number): Promise<Ceiling> {
  const target = new URL("/v1/connect", url);
  target.protocol = "ws:";
  const sockets = await Promise.all(tokens.map((token) => opened(connector(target.href, [PUSH_PROTOCOL, `${PUSH_TOKEN_PREFIX}${token}`]))));
  try {
    return await closedLoop(seconds, sockets.length, (lane) => pong(sockets[lane]));
  } finally {
    for (const socket of sockets) socket.close(1000, "done");
  }
}

function opened(socket: WebSocketLike): Promise<WebSocketLike> {
  return new Promise((resolve, reject) => {
    socket.onopen = () => resolve(socket);
    socket.onerror = () => reject(new Error("push connection refused"));
    socket.onclose = (event) => reject(new Error(`push connection refused (${event.code})`));
  });
}

function pong(socket: WebSocketLike): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.onmessage = (event) => event.data === PUSH_PONG && resolve();
    socket.onclose = (event) => reject(new Error(`push connection closed (${event.code})`));
    socket.send(PUSH_PING);
  });
}
