/**
 * A priority queue of timed events (binary min-heap). Events at the same time come out in the
 * order they were pushed, so a run is deterministic.
 */
export class EventQueue<E> {
  private times: number[] = [];
  private seqs: number[] = [];
  private events: E[] = [];
  private seq = 0;
  /** The time of the event `pop` returned last. */
  lastTime = Number.NEGATIVE_INFINITY;

  get size(): number {
    return this.events.length;
  }

  push(time: number, event: E): void {
    let i = this.events.length;
    this.times.push(time);
    this.seqs.push(this.seq++);
    this.events.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** The time of the earliest event, or Infinity. */
  peekTime(): number {
    return this.events.length > 0 ? this.times[0] : Number.POSITIVE_INFINITY;
  }

  /** Removes and returns the earliest event; its time is then `lastTime`. */
  pop(): E | undefined {
    const n = this.events.length;
    if (n === 0) return undefined;
    const time = this.times[0];
    const event = this.events[0];
    this.swap(0, n - 1);
    this.times.pop();
    this.seqs.pop();
    this.events.pop();
    let i = 0;
    const size = n - 1;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) break;
      const right = left + 1;
      const child = right < size && this.before(right, left) ? right : left;
      if (!this.before(child, i)) break;
      this.swap(i, child);
      i = child;
    }
    this.lastTime = time;
    return event;
  }

  private before(i: number, j: number): boolean {
    return this.times[i] < this.times[j] || (this.times[i] === this.times[j] && this.seqs[i] < this.seqs[j]);
  }

  private swap(i: number, j: number): void {
    const t = this.times[i];
    this.times[i] = this.times[j];
    this.times[j] = t;
    const s = this.seqs[i];
    this.seqs[i] = this.seqs[j];
    this.seqs[j] = s;
    const e = this.events[i];
    this.events[i] = this.events[j];
    this.events[j] = e;
  }
}
