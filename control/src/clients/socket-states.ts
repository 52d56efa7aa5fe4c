/** The part of a hibernatable WebSocket that keeps state across the object leaving memory. */
export interface Attachable {
  serializeAttachment(value: unknown): void;
  deserializeAttachment(): unknown;
}

/**
 * Each push connection's state, read from its attachment once per socket while the object stays in
 * memory, and written through to it on every change (the attachment is what survives hibernation).
 * A shard reads the state of all its sockets on every recheck and every refresh of its view, and
 * of one socket on every frame: deserializing each time costs a structured clone per socket.
 */
export class SocketStates<S extends object> {
  private readonly known = new WeakMap<Attachable, S>();

  /** The socket's state (null: it has none, as no socket of this shard should). */
  of(socket: Attachable): S | null {
    const known = this.known.get(socket);
    if (known) return known;
    const state = socket.deserializeAttachment() as S | null;
    if (state) this.known.set(socket, state);
    return state;
  }

  /** Sets the socket's state, in memory and in its attachment. */
  write(socket: Attachable, state: S): void {
    socket.serializeAttachment(state);
    this.known.set(socket, state);
  }
}
