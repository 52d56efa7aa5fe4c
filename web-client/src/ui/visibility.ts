import { text } from "./view.js";

/** Timer period of the throttling check: a tick this much later than due means the tab is held back. */
const TICK_MS = 1000;

/** What the page says about running in the background ("" when the tab is visible). */
export function visibilityNote(state: { hidden: boolean; contributing: boolean; lagMs: number }): string {
  if (!state.hidden) return "";
  const work = state.contributing ? "Training goes on in a worker as far as the browser allows" : "Not contributing";
  const throttled = state.lagMs > TICK_MS ? ` The browser is throttling this tab: its timers run up to ${(state.lagMs / 1000).toFixed(1)} s late.` : "";
  return `This tab is in the background. ${work}.${throttled}`;
}

/**
 * Says when the tab is in the background and whether the browser throttles it (Page Visibility
 * API). Training runs in a worker and goes on while hidden as far as the browser allows; a
 * main-thread timer that fires late shows how much the browser slows the tab down.
 */
export function watchVisibility(isContributing: () => boolean): void {
  let last = performance.now();
  let lagMs = 0;
  const show = () => text("visibility", visibilityNote({ hidden: document.visibilityState === "hidden", contributing: isContributing(), lagMs }));
  setInterval(() => {
    const now = performance.now();
    lagMs = document.visibilityState === "visible" ? 0 : Math.max(lagMs, now - last - TICK_MS);
    last = now;
    show();
  }, TICK_MS);
  document.addEventListener("visibilitychange", () => {
    lagMs = 0;
    show();
  });
}
