import { PUSH_PING, PUSH_PONG, PUSH_PROTOCOL, PUSH_TOKEN_PREFIX } from "@propius/shared";
import { PushSession, type WebSocketConnector, type WebSocketLike } from "@propius/edge-runtime";

// Reference work for the push transport, sent by probe devices that take no part in the rounds
// (a device has one connection: a probe of its own would replace a bench device's).

/** Opens a push connection with `token`, and closes it once open: the connection's cost, end to end. */
export async function openAndClose(connector: WebSocketConnector, baseUrl: string, token: string): Promise<void> {
  const session = await PushSession.open(connector, baseUrl, token);
  session.close();
}

/** A raw push connection of `token`, for keep-alive frames (see `pong`). */
export async function openRaw(connector: WebSocketConnector, baseUrl: string, token: string): Promise<WebSocketLike> {
  const url = new URL("/v1/connect", baseUrl);
  url.protocol = "ws:";
  const socket = connector(url.href, [PUSH_PROTOCOL, `${PUSH_TOKEN_PREFIX}${token}`]);
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error("the probe's push connection failed"));
  });
  return socket;
}

/** One keep-alive frame and its pong: the cheapest frame there is (the platform answers it without running the shard). */
export function pong(socket: WebSocketLike): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no pong within 5 s")), 5_000);
    socket.onmessage = (event) => {
      if (event.data !== PUSH_PONG) return;
      clearTimeout(timer);
      resolve();
    };
    socket.send(PUSH_PING);
  });
}

/**
 * One frame the shard's code answers without doing any work (not JSON: an `invalid_json` error),
 * and that answer: the cheapest exchange that runs the shard's handler.
 */
export function refusedFrame(socket: WebSocketLike): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no answer within 5 s")), 5_000);
    socket.onmessage = (event) => {
      if (typeof event.data !== "string" || !event.data.includes("invalid_json")) return;
      clearTimeout(timer);
      resolve();
    };
    socket.send("{");
  });
}
