import { PropiusError, type Starvation } from "@propius/shared";

/** How the dashboard says things: figures, times, errors. */

export const fixed = (value: number | null, digits = 4) => (value === null ? "–" : value.toFixed(digits));

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 2 ** 20) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 2 ** 20).toFixed(2)} MB`;
}

export const formatTime = (ms: number) => new Date(ms).toLocaleString();

/** A starved job's figures, as the jobs list and the job's page say them. */
export function starvationText(s: Starvation): string {
  const retried = `${s.attemptsRetried} attempt${s.attemptsRetried === 1 ? "" : "s"} retried`;
  const held = s.admitted ? "" : "; held back, binding no device, until enough are online";
  return `starved: ${s.eligibleDevices} eligible devices in the last ${s.windowSeconds} s, a round needs ${s.minimumReports} reports (demand ${s.demand}); ${retried}${held}`;
}

/** An API error as its code and message; anything else as its message. */
export function describeError(error: unknown): string {
  if (error instanceof PropiusError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** Makes an element with a class and text. */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, text = "", className = ""): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text) node.textContent = text;
  if (className) node.className = className;
  return node;
}
