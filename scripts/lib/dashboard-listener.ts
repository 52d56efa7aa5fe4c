import type { Page } from "playwright-core";
import { openTab, type Tab } from "./chromium.js";

/** A round-closed event as the dashboard's socket received it, on the page's clock (the machine's). */
export interface DashboardClose {
  round: number;
  closedAt: number;
  receivedAt: number;
}

/**
 * The owner dashboard in headless Chromium, signed in and on a job's page, with every round-closed
 * event its WebSocket receives stamped as it arrives (a listener added before the page's own, so
 * the stamp is the socket's delivery, not the page's rendering).
 */
export async function openDashboardOn(url: string, apiKey: string, jobId: string): Promise<{ tab: Tab; closes(): Promise<DashboardClose[]> }> {
  const tab = await openTab("about:blank", { webgpu: false });
  await tab.page.addInitScript(() => {
    const Native = WebSocket;
    const closes: { round: number; closedAt: number; receivedAt: number }[] = [];
    Object.assign(window, { receivedCloses: closes });
    window.WebSocket = class extends Native {
      constructor(address: string | URL, protocols?: string | string[]) {
        super(address, protocols);
        this.addEventListener("message", (message: MessageEvent) => {
          const receivedAt = Date.now();
          if (typeof message.data !== "string" || !message.data.includes('"round_closed"')) return;
          const event = JSON.parse(message.data) as { type: string; round: number; record: { closedAt: number } };
          if (event.type === "round_closed") closes.push({ round: event.round, closedAt: event.record.closedAt, receivedAt });
        });
      }
    };
  });
  await tab.page.goto(`${url}/dashboard`);
  await signIn(tab.page, apiKey);
  await tab.page.locator(`tr[data-job="${jobId}"] a`).click();
  await tab.page.waitForFunction(() => document.body.dataset.jobState !== undefined, null, { timeout: 60_000 });
  return { tab, closes: () => tab.page.evaluate(() => (window as unknown as { receivedCloses: DashboardClose[] }).receivedCloses) };
}

/** Types the key into the dashboard's sign-in form and submits it. */
export async function signIn(page: Page, apiKey: string): Promise<void> {
  await page.locator("#api-key").fill(apiKey);
  await page.locator("form.sign-in button").click();
}
