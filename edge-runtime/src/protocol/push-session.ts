import { PUSH_PING, PUSH_PROTOCOL, PUSH_TOKEN_PREFIX, PropiusError, isErrorBody, type Attributes, type CheckInReply, type PushMessage } from "@propius/shared";

/** The part of a WebSocket a push session uses: the browser's, Node 22's, or the `ws` package's. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** Opens a WebSocket (`new WebSocket(url, protocols)` where there is one). */
export type WebSocketConnector = (url: string, protocols: string[]) => WebSocketLike;

const OPEN = 1;
/** Keep-alive frames, answered by the platform without waking the shard. */
const PING_INTERVAL_MS = 30_000;

type Waiter = { resolve: (reply: CheckInReply | null) => void; reject: (error: Error) => void };

/**
 * A device's push connection (`GET /v1/connect`): check-ins go over it and are answered on it, and
 * a device that was told to wait receives its task (or an offer) there the moment its shard has one.
 */
export class PushSession {
  private nextId = 0;
  private readonly requests = new Map<number, Waiter>();
  private readonly pushed: CheckInReply[] = [];
  private listener: Waiter | null = null;
  private closedWith: Error | null = null;
  private readonly keepAlive: ReturnType<typeof setInterval>;

  private constructor(private readonly socket: WebSocketLike) {
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => this.fail(new Error(`push connection closed (${event.code}${event.reason ? `: ${event.reason}` : ""})`));
    socket.onerror = () => this.fail(new Error("push connection failed"));
    this.keepAlive = setInterval(() => this.socket.readyState === OPEN && this.socket.send(PUSH_PING), PING_INTERVAL_MS);
  }

  /** Connects to `baseUrl`'s `/v1/connect` with the device's token; rejects if it cannot within `timeoutMs`. */
  static open(connector: WebSocketConnector, baseUrl: string, token: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<PushSession> {
    const url = new URL("/v1/connect", baseUrl);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const socket = connector(url.href, [PUSH_PROTOCOL, `${PUSH_TOKEN_PREFIX}${token}`]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error("push connection timed out")), options.timeoutMs ?? 10_000);
      const onAbort = () => done(new Error("aborted"));
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const done = (error?: Error) => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        socket.onopen = socket.onclose = socket.onerror = null;
        if (!error) return resolve(new PushSession(socket));
        try {
          socket.close();
        } catch {
          /* never opened */
        }
        reject(error);
      };
      socket.onopen = () => done();
      socket.onerror = () => done(new Error("push connection refused"));
      socket.onclose = (event) => done(new Error(`push connection refused (${event.code})`));
    });
  }

  get open(): boolean {
    return this.closedWith === null && this.socket.readyState === OPEN;
  }

  /** A check-in over the connection; rejects with the server's error, or when the connection drops. */
  checkIn(attributes: Attributes, accept?: string): Promise<CheckInReply> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    return new Promise<CheckInReply | null>((resolve, reject) => {
      this.requests.set(id, { resolve, reject });
      this.socket.send(JSON.stringify(accept === undefined ? { type: "checkin", id, attributes } : { type: "checkin", id, attributes, accept }));
    }) as Promise<CheckInReply>;
  }

  /** The next reply pushed unasked, or null after `timeoutMs`; rejects when the connection drops. */
  nextPush(timeoutMs: number, signal?: AbortSignal): Promise<CheckInReply | null> {
    const queued = this.pushed.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      const finish = (reply: CheckInReply | null, error?: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.listener = null;
        if (error) reject(error);
        else resolve(reply);
      };
      const timer = setTimeout(() => finish(null), timeoutMs);
      const onAbort = () => finish(null, new Error("aborted"));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.listener = { resolve: (reply) => finish(reply), reject: (error) => finish(null, error) };
    });
  }

  /** Forgets pushed replies not yet taken (the device has just been handed a task some other way). */
  discardPushes(): void {
    this.pushed.length = 0;
  }

  close(): void {
    clearInterval(this.keepAlive);
    this.fail(new Error("push connection closed by the device"));
    try {
      this.socket.close(1000, "done");
    } catch {
      /* already closed */
    }
  }

  private receive(data: unknown): void {
    if (typeof data !== "string" || data === "pong") return;
    let message: PushMessage;
    try {
      message = JSON.parse(data) as PushMessage;
    } catch {
      return;
    }
    const waiter = message.id === undefined ? undefined : this.requests.get(message.id);
    if (waiter) this.requests.delete(message.id!);
    if (message.type === "error" && isErrorBody(message)) {
      waiter?.reject(new PropiusError(message.error.code, message.error.message, message.error.details));
      return;
    }
    if (message.type !== "reply") return;
    if (waiter) return waiter.resolve(message.reply);
    if (this.listener) return this.listener.resolve(message.reply);
    this.pushed.push(message.reply);
  }

  private fail(error: Error): void {
    if (this.closedWith) return;
    this.closedWith = error;
    clearInterval(this.keepAlive);
    for (const waiter of this.requests.values()) waiter.reject(error);
    this.requests.clear();
    this.listener?.reject(error);
  }
}
