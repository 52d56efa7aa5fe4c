import type { Attributes, CheckInReply } from "@propius/shared";
import type { DeviceClient } from "./protocol/device-client.js";
import { PushSession, type WebSocketConnector } from "./protocol/push-session.js";
import { sleep } from "./protocol/http.js";

/** After a push connection fails, how long the device checks in over HTTP before it tries again. */
const RECONNECT_AFTER_MS = 30_000;

export type ChannelEvent = { type: "connection"; state: "open" | "closed"; detail?: string };

/**
 * How a device checks in and waits: over its push connection when it has one (a wait then ends
 * the moment the shard pushes a task), else over HTTP with the wait the server asked for. A
 * connection that cannot be opened or drops sends the device back to HTTP, and is retried later.
 */
export class CheckInChannel {
  private session: PushSession | null = null;
  private retryAt = 0;

  constructor(
    private readonly client: DeviceClient,
    private readonly connector: WebSocketConnector | undefined,
    private readonly emit: (event: ChannelEvent) => void,
  ) {}

  async checkIn(attributes: Attributes, accept: string | undefined, signal?: AbortSignal): Promise<CheckInReply> {
    const session = await this.connected(signal);
    if (session) {
      // A device that waits on its connection for hours makes no HTTP call: its token is renewed here when due.
      if (this.client.credentials) await this.client.currentToken(signal);
      try {
        return await session.checkIn(attributes, accept);
      } catch (error) {
        if (!this.dropped(session, error)) throw error;
      }
    }
    return this.client.checkIn(attributes, { accept, signal });
  }

  /**
   * Opens the push connection now rather than at the first check-in (a device that wants to know
   * what the connection costs, or that it has one); whether it holds one afterwards.
   */
  async connect(signal?: AbortSignal): Promise<boolean> {
    return (await this.connected(signal)) !== null;
  }

  /** Whether the device holds a push connection now. */
  get pushing(): boolean {
    return this.session?.open ?? false;
  }

  /** Waits up to `ms` for a pushed reply (null when the time is up or there is no connection to push on). */
  async wait(ms: number, signal?: AbortSignal): Promise<CheckInReply | null> {
    const session = this.session;
    if (!session?.open) {
      await sleep(ms, signal);
      return null;
    }
    try {
      return await session.nextPush(ms, signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      this.dropped(session, error);
      return null;
    }
  }

  /** The device has a task: replies pushed before it took it are stale. */
  taken(): void {
    this.session?.discardPushes();
  }

  close(): void {
    this.session?.close();
    this.session = null;
  }

  private async connected(signal?: AbortSignal): Promise<PushSession | null> {
    if (this.session?.open) return this.session;
    if (!this.connector || !this.client.credentials || Date.now() < this.retryAt) return null;
    try {
      this.session = await PushSession.open(this.connector, this.client.baseUrl, await this.client.currentToken(signal), { signal });
      this.emit({ type: "connection", state: "open" });
      return this.session;
    } catch (error) {
      if (signal?.aborted) throw error;
      this.retryAt = Date.now() + RECONNECT_AFTER_MS;
      this.emit({ type: "connection", state: "closed", detail: (error as Error).message });
      return null;
    }
  }

  /** Whether `error` is the connection dropping (the device goes on over HTTP), not an answer from the server. */
  private dropped(session: PushSession, error: unknown): boolean {
    if (session.open) return false;
    if (this.session === session) this.session = null;
    this.retryAt = Date.now() + RECONNECT_AFTER_MS;
    this.emit({ type: "connection", state: "closed", detail: (error as Error).message });
    return true;
  }
}
