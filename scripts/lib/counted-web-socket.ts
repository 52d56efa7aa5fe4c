import { PUSH_PING, PUSH_PONG } from "@propius/shared";
import type { WebSocketConnector, WebSocketLike } from "@propius/edge-runtime";

/** WebSocket frames the devices sent and received, keep-alive pings and their pongs apart. */
export interface Frames {
  sent: number;
  received: number;
  pings: number;
  pongs: number;
}

export const noFrames = (): Frames => ({ sent: 0, received: 0, pings: 0, pongs: 0 });

/**
 * A connector whose sockets count their frames into `frames` (text frames as sent and as handed
 * to the page's handler) and otherwise pass everything through: the push session runs on them
 * unchanged.
 */
export function countedConnector(connector: WebSocketConnector, frames: Frames): WebSocketConnector {
  return (url, protocols) => {
    const socket = connector(url, protocols);
    let onmessage: WebSocketLike["onmessage"] = null;
    return {
      get readyState() {
        return socket.readyState;
      },
      send(data: string) {
        if (data === PUSH_PING) frames.pings += 1;
        else frames.sent += 1;
        socket.send(data);
      },
      close: (code?: number, reason?: string) => socket.close(code, reason),
      get onopen() {
        return socket.onopen;
      },
      set onopen(handler) {
        socket.onopen = handler;
      },
      get onclose() {
        return socket.onclose;
      },
      set onclose(handler) {
        socket.onclose = handler;
      },
      get onerror() {
        return socket.onerror;
      },
      set onerror(handler) {
        socket.onerror = handler;
      },
      get onmessage() {
        return onmessage;
      },
      set onmessage(handler) {
        onmessage = handler;
        socket.onmessage = handler && ((event) => {
          if (event.data === PUSH_PONG) frames.pongs += 1;
          else frames.received += 1;
          handler(event);
        });
      },
    };
  };
}
