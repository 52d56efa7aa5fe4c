import { WebSocket as NodeWebSocket } from "ws";
import type { WebSocketConnector, WebSocketLike } from "@propius/edge-runtime";

/**
 * Opens push connections from Node: the platform's WebSocket where there is one (Node 22 and
 * later), else the `ws` package (Node 20).
 */
export function nodeWebSocket(): WebSocketConnector {
  const Native = (globalThis as { WebSocket?: new (url: string, protocols: string[]) => WebSocketLike }).WebSocket;
  if (Native) return (url, protocols) => new Native(url, protocols);
  return (url, protocols) => new NodeWebSocket(url, protocols) as unknown as WebSocketLike;
}
