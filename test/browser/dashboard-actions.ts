import type { Page } from "playwright-core";

/**
 * What an owner does on the dashboard, and what the tests read from it: sign in, and the points
 * each chart holds (its `data-points`, counted from uPlot's own data).
 */

// Signing in is shared with the events benchmark, which follows a job from the dashboard too.
export { signIn } from "../../scripts/lib/dashboard-listener.js";

/** The points each chart holds now, by chart id. */
export function chartPoints(page: Page, charts: string[]): Promise<Record<string, number>> {
  return page.evaluate((ids) => Object.fromEntries(ids.map((id) => [id, Number(document.querySelector(`#chart-${id}`)?.getAttribute("data-points"))])), charts);
}

/** From now on, records every new value of each chart's point count, in order (kept in the page). */
export async function watchChartPoints(page: Page, charts: string[]): Promise<void> {
  await page.evaluate((ids) => {
    const seen: Record<string, number[]> = {};
    for (const id of ids) {
      const chart = document.querySelector(`#chart-${id}`)!;
      seen[id] = [];
      let last = chart.getAttribute("data-points");
      new MutationObserver(() => {
        const now = chart.getAttribute("data-points");
        if (now !== last) seen[id].push(Number(now));
        last = now;
      }).observe(chart, { attributes: true, attributeFilter: ["data-points"] });
    }
    Object.assign(window, { seenChartPoints: seen });
  }, charts);
}

/** The values `watchChartPoints` recorded. */
export function watchedPoints(page: Page): Promise<Record<string, number[]>> {
  return page.evaluate(() => (window as unknown as { seenChartPoints: Record<string, number[]> }).seenChartPoints);
}
