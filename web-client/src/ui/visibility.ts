import { text } from "./view.js";

/**
 * Says when the tab is in the background and whether the browser throttles it. Training runs in a
 * worker and goes on while hidden as far as the browser allows; a main-thread timer that fires
 * late shows how much the browser slows the tab down.
 */
export function watchVisibility(isContributing: () => boolean): void {
  const tickMs = 1000;
  let last = performance.now();
  let lagMs = 0;
  const describe = () => {
    if (document.visibilityState === "visible") return text("visibility", "");
    const work = isContributing() ? "Training goes on in a worker as far as the browser allows" : "Not contributing";
    const throttled = lagMs > tickMs ? ` The browser is throttling this tab: its timers run up to ${(lagMs / 1000).toFixed(1)} s late.` : "";
    text("visibility", `This tab is in the background. ${work}.${throttled}`);
  };
  setInterval(() => {
    const now = performance.now();
    lagMs = document.visibilityState === "visible" ? 0 : Math.max(lagMs, now - last - tickMs);
    last = now;
    describe();
  }, tickMs);
  document.addEventListener("visibilitychange", () => {
    lagMs = 0;
    describe();
  });
}
