import { summarizeAttributes, summarizeFailures, type JobDevice } from "@propius/shared";
import { element, formatBytes, formatTime } from "./format.js";

/** A time of today as its time of day alone; another day's with its date. */
const seenAt = (ms: number) => (new Date(ms).toDateString() === new Date().toDateString() ? new Date(ms).toLocaleTimeString() : formatTime(ms));

/**
 * The job's devices as a table (`GET /v1/jobs/:id/devices`, the most recent first): each device's
 * anonymous id, its attributes on one line, and what it contributed. Wide: it scrolls sideways
 * in its own box on a phone, the page does not.
 */
export class DevicesTable {
  readonly box = element("div", "", "table-scroll");
  private readonly table = element("table", "", "devices");
  private readonly note = element("p", "", "muted");

  constructor() {
    this.table.createTHead().insertRow().append(...["device", "attributes", "rounds", "updates", "examples", "bytes in", "failures", "evals", "last seen"].map((h) => element("th", h)));
    this.table.createTBody();
    this.box.append(this.table, this.note);
  }

  show(devices: JobDevice[], limit: number): void {
    const body = this.table.tBodies[0];
    body.replaceChildren();
    for (const d of devices) {
      const tr = body.insertRow();
      tr.dataset.device = d.id;
      const attributes = summarizeAttributes(d.attributes);
      const cells = [d.id, attributes || "–", String(d.roundsBound), String(d.updatesAccepted), String(d.examples), formatBytes(d.bytesIn), summarizeFailures(d.failures) || "–", String(d.evaluationsReported), seenAt(d.lastSeen)];
      for (const cell of cells) tr.insertCell().textContent = cell;
      // The whole set, when the line is cut short.
      tr.cells[1].title = Object.entries(d.attributes).map(([k, v]) => `${k}=${v}`).join("\n");
    }
    this.note.textContent = devices.length === 0 ? "No device has taken part yet." : devices.length >= limit ? `The ${limit} most recently seen devices.` : "";
  }
}
