import { describe, expect, it } from "vitest";
import { SocketStates, type Attachable } from "./socket-states.js";

/** A socket whose attachment is kept serialized, as the platform keeps it, counting the reads. */
function socket(initial?: unknown): Attachable & { reads: number; stored: string | null } {
  const s = {
    reads: 0,
    stored: initial === undefined ? null : JSON.stringify(initial),
    serializeAttachment(value: unknown) {
      s.stored = JSON.stringify(value);
    },
    deserializeAttachment() {
      s.reads += 1;
      return s.stored === null ? null : JSON.parse(s.stored);
    },
  };
  return s;
}

describe("SocketStates", () => {
  it("reads a socket's attachment once, and writes every change through to it", () => {
    const states = new SocketStates<{ clientId: string; waitingSince: number | null }>();
    const ws = socket({ clientId: "c1", waitingSince: null });
    expect(states.of(ws)).toEqual({ clientId: "c1", waitingSince: null });
    expect(states.of(ws)).toEqual({ clientId: "c1", waitingSince: null });
    expect(ws.reads).toBe(1);
    states.write(ws, { clientId: "c1", waitingSince: 5 });
    expect(states.of(ws)?.waitingSince).toBe(5);
    expect(JSON.parse(ws.stored!)).toEqual({ clientId: "c1", waitingSince: 5 });
    expect(ws.reads).toBe(1);
  });

  it("reads the attachment afresh in a new start of the object (what survived hibernation)", () => {
    const ws = socket();
    new SocketStates<{ clientId: string; waitingSince: number | null }>().write(ws, { clientId: "c2", waitingSince: 9 });
    const woken = new SocketStates<{ clientId: string; waitingSince: number | null }>();
    expect(woken.of(ws)).toEqual({ clientId: "c2", waitingSince: 9 });
    expect(ws.reads).toBe(1);
  });

  it("keeps no state for a socket without an attachment, and reads it again later", () => {
    const states = new SocketStates<{ clientId: string }>();
    const ws = socket();
    expect(states.of(ws)).toBeNull();
    ws.serializeAttachment({ clientId: "c3" });
    expect(states.of(ws)).toEqual({ clientId: "c3" });
  });
});
