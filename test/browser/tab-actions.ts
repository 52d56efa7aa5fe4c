import type { Page } from "playwright-core";

/**
 * What a person does on the contribute page, for the browser tests: pause, give files, make a digit image.
 */

/** Pauses a tab's contribution and waits until its task loop has stopped. */
export async function pauseTab(page: Page): Promise<void> {
  if (await page.locator("#pause").isDisabled()) return;
  await page.locator("#pause").click();
  await page.waitForFunction(() => document.body.dataset.state === "paused", null, { timeout: 60_000 });
}

/** Gives the tab files through its file input; waits until the page has read them. */
export async function useFiles(page: Page, files: Array<{ name: string; mimeType: string; buffer: Buffer }>): Promise<void> {
  await page.locator("#data").evaluate((element) => (element.textContent = ""));
  await page.locator("#files").setInputFiles(files);
  await page.locator("#use-files").click();
  await page.waitForFunction(() => (document.querySelector("#data")?.textContent ?? "") !== "", null, { timeout: 30_000 });
}

/** A 56 x 56 PNG of a dark digit on white, drawn by the page's own canvas. */
export async function digitPng(page: Page, digit: string): Promise<Buffer> {
  const url = await page.evaluate((d) => {
    const canvas = document.createElement("canvas");
    [canvas.width, canvas.height] = [56, 56];
    const context = canvas.getContext("2d")!;
    context.fillStyle = "#fff";
    context.fillRect(0, 0, 56, 56);
    context.fillStyle = "#000";
    context.font = "48px sans-serif";
    context.fillText(d, 14, 48);
    return canvas.toDataURL("image/png");
  }, digit);
  return Buffer.from(url.split(",")[1], "base64");
}
