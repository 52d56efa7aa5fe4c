import { describe, expect, it } from "vitest";
import { EventQueue } from "./event-queue.js";
import { seededRandom } from "./random.js";

describe("EventQueue", () => {
  it("returns events in time order, and same-time events in the order they were pushed", () => {
    const queue = new EventQueue<string>();
    queue.push(5, "e");
    queue.push(1, "a");
    queue.push(3, "c1");
    queue.push(3, "c2");
    queue.push(3, "c3");
    const out: string[] = [];
    while (queue.size > 0) out.push(`${queue.pop()}@${queue.lastTime}`);
    expect(out).toEqual(["a@1", "c1@3", "c2@3", "c3@3", "e@5"]);
  });

  it("sorts many random times like a stable sort", () => {
    const random = seededRandom(9);
    const queue = new EventQueue<number>();
    const times = Array.from({ length: 5_000 }, () => Math.floor(random() * 100));
    times.forEach((t, i) => queue.push(t, i));
    const order = Array.from({ length: times.length }, () => queue.pop()!);
    const expected = times.map((t, i) => ({ t, i })).sort((a, b) => a.t - b.t || a.i - b.i).map((e) => e.i);
    expect(order).toEqual(expected);
    expect(queue.pop()).toBeUndefined();
  });
});
