import type { Capabilities, DataSummary, ProbeReport } from "../contract.js";
import type { Contribution } from "../store/device-store.js";

/** An element the page must have; a missing id is a bug in index.html, said plainly. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

export const text = (id: string, value: string) => void (byId(id).textContent = value);

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 2 ** 20) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 2 ** 20).toFixed(2)} MB`;
}

function row(cells: string[], className?: string): HTMLTableRowElement {
  const tr = document.createElement("tr");
  if (className) tr.className = className;
  for (const cell of cells) tr.insertCell().textContent = cell;
  return tr;
}

function capabilityRows(c: Capabilities): Array<[string, string]> {
  return [
    ["WebGPU adapter", c.webgpuAdapter ?? "none"],
    ["WebGL2", c.webgl2 ? "yes" : "no"],
    ["WASM SIMD", c.wasmSimd ? "yes" : "no"],
    ["WASM threads", c.wasmThreads ? "available (not used: single-threaded wasm is used)" : c.crossOriginIsolated ? "no" : "no (page not cross-origin isolated)"],
    ["cores", c.cores === null ? "unknown" : String(c.cores)],
    ["memory", c.memoryGb === null ? "not reported" : `${c.memoryGb} GB or more`],
  ];
}

export function showProbe(report: ProbeReport): void {
  const list = byId("capabilities");
  list.replaceChildren();
  for (const [name, value] of capabilityRows(report.capabilities)) {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  }
  text("backend", report.backend);
  byId("probes").querySelector("tbody")!.replaceChildren(
    ...report.probes.map((p) =>
      row([p.name, p.ok ? `ok (${p.millis} ms)` : `failed: ${p.error}`, p.ok ? String(p.samplesPerSecond) : "–"], p.ok ? undefined : "failed"),
    ),
  );
}

export function showData(summary: DataSummary): void {
  text("data", summary.description);
}

export function showHistory(history: readonly Contribution[]): void {
  const rows = [...history].reverse().map((c) =>
    row(
      [new Date(c.at).toLocaleTimeString(), c.jobId, String(c.round), c.status, String(c.examples), Number.isFinite(c.trainLoss) ? c.trainLoss.toFixed(4) : "–", formatBytes(c.bytesUp), formatBytes(c.bytesDown), c.backend],
      c.status === "accepted" ? "accepted" : "failed",
    ),
  );
  byId("history").querySelector("tbody")!.replaceChildren(...rows);
}

export function showTotals(totals: { bytesUp: number; bytesDown: number }): void {
  text("bytes-up", formatBytes(totals.bytesUp));
  text("bytes-down", formatBytes(totals.bytesDown));
}
