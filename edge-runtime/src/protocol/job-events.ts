import { EVENTS_PING, EVENTS_PONG, EVENTS_PROTOCOL, PUSH_TOKEN_PREFIX, PropiusError, jobEventSchema, type EventsToken, type JobEvent } from "@propius/shared";
import { Http, sleep, type HttpOptions } from "./http.js";
import type { WebSocketConnector, WebSocketLike } from "./push-session.js";

export interface JobEventsOptions extends HttpOptions {
  apiKey: string;
  jobId: string;
  /** Opens WebSockets: `(url, protocols) => new WebSocket(url, protocols)` in a browser, `nodeWebSocket()` in Node. */
  connector: WebSocketConnector;
  /** The last sequence number already seen: the job replays what came after it if it still can. */
  since?: number;
  /** Called with every event, in order (the same events `next` gives). */
  onEvent?: (event: JobEvent) => void;
  /** First wait before reconnecting, doubled per failed try up to 5 s (default 250 ms). */
  reconnectMs?: number;
  /** Keep-alive interval (default 30 s); the platform answers without waking the job. */
  keepAliveMs?: number;
}

const OPEN = 1;
const MAX_RECONNECT_MS = 5_000;

/**
 * An owner's live view of a job (`GET /v1/jobs/:id/events`): its state first, then its events as
 * they happen. A dropped connection is reopened with a fresh subscription token (they are valid
 * for a minute) and the last sequence number seen, so the job replays the events missed when it
 * still holds them, or else sends its current state again (a `snapshot`). Events already seen are
 * not delivered twice. The token request's own errors (the key refused, the job gone) end it.
 */
export class JobEventSubscription {
  private readonly http: Http;
  private socket: WebSocketLike | null = null;
  private seq: number | null;
  private readonly queue: JobEvent[] = [];
  private waiter: ((event: JobEvent | null) => void) | null = null;
  private pongs: (() => void)[] = [];
  private stopped: Error | null = null;
  private keepAlive: ReturnType<typeof setInterval> | undefined;
  /** How many times the connection was reopened after dropping. */
  reconnects = 0;

  private constructor(private readonly options: JobEventsOptions) {
    this.http = new Http(options);
    this.seq = options.since ?? null;
  }

  /** Subscribes; resolves once the first connection is open (its first message is on its way). */
  static async open(options: JobEventsOptions): Promise<JobEventSubscription> {
    const subscription = new JobEventSubscription(options);
    await subscription.connect();
    subscription.keepAlive = setInterval(() => subscription.socket?.readyState === OPEN && subscription.socket.send(EVENTS_PING), options.keepAliveMs ?? 30_000);
    return subscription;
  }

  /** The last sequence number delivered (what a reconnection resumes from). */
  get lastSeq(): number | null {
    return this.seq;
  }

  /** Why the subscription ended (null while it runs). */
  get error(): Error | null {
    return this.stopped;
  }

  /** The next event, or null after `timeoutMs`; rejects once the subscription has ended. */
  next(timeoutMs = 30_000): Promise<JobEvent | null> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.stopped) return Promise.reject(this.stopped);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(null), timeoutMs);
      const finish = (event: JobEvent | null) => {
        clearTimeout(timer);
        this.waiter = null;
        if (event === null && this.stopped) reject(this.stopped);
        else resolve(event);
      };
      this.waiter = finish;
    });
  }

  /** One keep-alive round trip on the open connection, in ms (the platform answers it, the job stays asleep). */
  ping(timeoutMs = 10_000): Promise<number> {
    const socket = this.socket;
    if (!socket || socket.readyState !== OPEN) return Promise.reject(new Error("the event connection is not open"));
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no pong came")), timeoutMs);
      this.pongs.push(() => (clearTimeout(timer), resolve(performance.now() - started)));
      socket.send(EVENTS_PING);
    });
  }

  close(): void {
    this.stop(new Error("the subscription was closed"));
  }

  /** Opens a connection with a fresh token; a refused token request ends the subscription. */
  private async connect(): Promise<void> {
    const { token } = await this.http.json<EventsToken>(`/v1/jobs/${this.options.jobId}/events/token`, { method: "POST", headers: { authorization: `Bearer ${this.options.apiKey}` } });
    const url = new URL(this.http.url(`/v1/jobs/${this.options.jobId}/events`));
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    if (this.seq !== null) url.searchParams.set("since", String(this.seq));
    const socket = this.options.connector(url.href, [EVENTS_PROTOCOL, `${PUSH_TOKEN_PREFIX}${token}`]);
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => reject(new Error("the event connection was refused"));
      socket.onclose = (event) => reject(new Error(`the event connection was refused (${event.code})`));
    });
    if (this.stopped) return socket.close(1000, "closed");
    this.socket = socket;
    this.pongs = [];
    socket.onmessage = (event) => this.receive(event.data);
    socket.onerror = () => undefined;
    socket.onclose = () => {
      if (this.socket === socket) void this.reconnect();
    };
  }

  /** Reopens a dropped connection, backing off, until it opens or a token request is refused. */
  private async reconnect(): Promise<void> {
    this.socket = null;
    let wait = this.options.reconnectMs ?? 250;
    while (!this.stopped) {
      await sleep(wait * (0.5 + Math.random()));
      if (this.stopped) return;
      try {
        await this.connect();
        this.reconnects += 1;
        return;
      } catch (error) {
        // A 4xx on the token request will not mend by retrying; a refused or failed connection may.
        if (error instanceof PropiusError && error.status < 500) return this.stop(error);
        wait = Math.min(wait * 2, MAX_RECONNECT_MS);
      }
    }
  }

  private receive(data: unknown): void {
    if (typeof data !== "string") return;
    if (data === EVENTS_PONG) return this.pongs.shift()?.();
    let event: JobEvent;
    try {
      event = jobEventSchema.parse(JSON.parse(data)) as JobEvent;
    } catch {
      return;
    }
    // A snapshot always counts (it may repeat the last number); an event seen before does not.
    if (event.type !== "snapshot" && this.seq !== null && event.seq <= this.seq) return;
    this.seq = event.seq;
    this.options.onEvent?.(event);
    if (this.waiter) this.waiter(event);
    else this.queue.push(event);
  }

  private stop(error: Error): void {
    if (this.stopped) return;
    this.stopped = error;
    clearInterval(this.keepAlive);
    const socket = this.socket;
    this.socket = null;
    try {
      socket?.close(1000, "closed");
    } catch {
      /* already closed */
    }
    this.waiter?.(null);
  }
}
