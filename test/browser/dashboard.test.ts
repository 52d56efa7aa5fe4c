import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OwnerClient } from "@propius/edge-runtime";
import { parameterCount } from "@propius/shared";
import { createDemoJob, followJob } from "../../scripts/lib/demo-job.js";
import { startDemoClients, stopAll } from "../../scripts/lib/demo-clients.js";
import { ensureWebPage } from "../../scripts/lib/web-page.js";
import { ADMIN_KEY, TestControlPlane, prepareDevices } from "../integration/helpers.js";
import { openTab, type Tab } from "../../scripts/lib/chromium.js";
import { chartPoints, signIn, watchChartPoints, watchedPoints } from "./dashboard-actions.js";

const ROUNDS = 3;
const CHARTS = ["accuracy", "loss", "devices", "duration", "bytes"];

describe("the owner dashboard: a job followed live in headless Chromium while Node devices train it", () => {
  let plane: TestControlPlane;
  let owner: OwnerClient;
  let apiKey: string;
  let devicesDir: string;
  let screenshots: string;
  let entry: string;
  let tab: Tab;
  const lines: string[] = [];

  beforeAll(async () => {
    devicesDir = await mkdtemp(join(tmpdir(), "propius-dashboard-devices-"));
    screenshots = await mkdtemp(join(tmpdir(), "propius-dashboard-screenshots-"));
    const ready = prepareDevices(devicesDir);
    await ensureWebPage();
    plane = await TestControlPlane.start({ SCHEDULER_VIEW_TTL_MS: "0" });
    ({ apiKey } = await OwnerClient.createTenant({ baseUrl: plane.url, adminKey: ADMIN_KEY, name: "dashboard" }));
    owner = new OwnerClient({ baseUrl: plane.url, apiKey });
    entry = await ready;
  });
  afterAll(async () => {
    await tab?.close();
    await plane?.dispose();
    await rm(devicesDir, { recursive: true, force: true });
    console.log(`dashboard screenshots: ${screenshots}`);
  });

  it("signs in, opens a running job, and its charts gain points as rounds close, without a reload", async () => {
    const job = await createDemoJob(owner, { rounds: ROUNDS, clients: 2 });
    tab = await openTab(`${plane.url}/dashboard`, { webgpu: false });
    const { page } = tab;

    // A wrong key is refused with the API's code; the right one is kept in sessionStorage only.
    await signIn(page, "pk_wrong.key");
    await page.waitForFunction(() => /^unauthorized: /.test(document.querySelector("#sign-in-error")?.textContent ?? ""), null, { timeout: 30_000 });
    await signIn(page, apiKey);
    const row = page.locator(`tr[data-job="${job.id}"]`);
    await row.waitFor({ timeout: 30_000 });
    await page.waitForFunction((id) => /0 \/ 3 rounds/.test(document.querySelector(`tr[data-job="${id}"]`)?.textContent ?? ""), job.id, { timeout: 30_000 });
    expect(await row.locator(".state").textContent()).toBe("running");
    const stored = await page.evaluate(() => ({ session: Object.values(sessionStorage), local: Object.values(localStorage) }));
    expect(stored.session).toContain(apiKey);
    expect(stored.local.join()).not.toContain(apiKey);

    await page.screenshot({ path: join(screenshots, "dashboard-jobs-desktop.png"), fullPage: true });
    await row.locator("a").click();
    await page.waitForFunction(() => document.body.dataset.jobState === "running", null, { timeout: 30_000 });
    expect(page.url()).toBe(`${plane.url}/dashboard#/jobs/${job.id}`);
    // A mark a reload would wipe, and every value each chart's point count takes from here on.
    await page.evaluate(() => Object.assign(window, { dashboardMark: "not reloaded" }));
    await watchChartPoints(page, CHARTS);
    const before = await chartPoints(page, CHARTS);
    expect(before.accuracy).toBe(0);
    // No device about yet: the page says the rounds cannot fill, with the figures.
    await page.waitForFunction(() => !(document.querySelector("#starvation") as HTMLElement).hidden, null, { timeout: 30_000 });
    expect(await page.locator("#starvation").textContent()).toMatch(/^starved: 0 eligible devices in the last \d+ s, a round needs 2 reports \(demand 2\); 0 attempts retried/);

    // The devices table gains its rows from a round's close while the job still runs.
    const devicesWhileRunning = page.waitForFunction(() => document.body.dataset.jobState === "running" && document.querySelectorAll("table.devices tbody tr").length > 0, null, { timeout: 300_000, polling: 100 });
    devicesWhileRunning.catch(() => {});
    const devices = startDemoClients({ url: plane.url, count: 2, processes: 1, seed: 5, stateDir: devicesDir, cacheDir: join(devicesDir, "cache"), entry, onLine: (i, line) => lines.push(`[${i}] ${line}`) });
    const accuracies: number[] = [];
    let final;
    try {
      final = await followJob(owner, job.id, ({ testAccuracy }) => accuracies.push(testAccuracy));
    } finally {
      await stopAll(devices);
    }
    expect(final.state, lines.join("\n")).toBe("done");
    expect(accuracies).toHaveLength(ROUNDS);
    await devicesWhileRunning;

    // Every round's owner and federated accuracy reached the chart, pushed over the event stream.
    await page.waitForFunction(() => document.body.dataset.jobState === "done" && document.querySelector("#chart-accuracy")?.getAttribute("data-points") === "6", null, { timeout: 30_000 });
    expect(await page.evaluate(() => (window as unknown as { dashboardMark?: string }).dashboardMark)).toBe("not reloaded");
    const after = await chartPoints(page, CHARTS);
    // Per round: bound, reported and failed; open to close, selection, training and aggregation; bytes in and out; train, test and federated loss.
    expect(after).toEqual({ accuracy: 2 * ROUNDS, loss: 3 * ROUNDS, devices: 3 * ROUNDS, duration: 4 * ROUNDS, bytes: 2 * ROUNDS });
    // The charts grew in steps as rounds closed, not all at once at the end.
    const seen = await watchedPoints(page);
    for (const chart of ["accuracy", "duration", "bytes"]) expect(seen[chart], chart).toEqual([...new Set(seen[chart])].sort((a, b) => a - b));
    expect(seen.duration).toEqual([4, 8, 12]);
    expect(seen.accuracy.length).toBeGreaterThanOrEqual(ROUNDS);
    // The table shows the owner's accuracies as recorded.
    const shown = await page.locator("table.rounds tbody tr").evaluateAll((trs) => trs.map((tr) => (tr as HTMLTableRowElement).cells[6].textContent));
    expect(shown).toEqual(accuracies.map((a) => a.toFixed(4)));
    // Both devices, by anonymous ids, with what they did as the job's own record has it.
    const listed = await owner.devices(job.id);
    expect(listed.devices).toHaveLength(2);
    await page.waitForFunction(() => {
      const trs = [...document.querySelectorAll<HTMLTableRowElement>("table.devices tbody tr")];
      return trs.length === 2 && trs.every((tr) => tr.cells[3].textContent !== "0");
    }, null, { timeout: 30_000 });
    const rows = await page.locator("table.devices tbody tr").evaluateAll((trs) => trs.map((tr) => [(tr as HTMLElement).dataset.device, (tr as HTMLTableRowElement).cells[3].textContent]));
    expect(rows.map(([id]) => id).sort()).toEqual(listed.devices.map((d) => d.id).sort());
    for (const [id, updates] of rows) expect(updates, id).toBe(String(listed.devices.find((d) => d.id === id)!.updatesAccepted));
    expect(await page.locator("#starvation").isHidden()).toBe(true);

    await page.screenshot({ path: join(screenshots, "dashboard-job-desktop.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const widths = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    expect(widths[0], "no sideways scrolling on a phone").toBeLessThanOrEqual(widths[1]);
    await page.screenshot({ path: join(screenshots, "dashboard-job-phone.png"), fullPage: true });
    await page.setViewportSize({ width: 1100, height: 1300 });

    // The model as a tfjs artifact: model.json naming weights.bin, and the job's current weights.
    await page.locator("#download").click();
    await page.locator(".files a").first().waitFor({ timeout: 30_000 });
    const saved: Record<string, Buffer> = {};
    for (const name of ["model.json", "weights.bin"]) {
      const [download] = await Promise.all([page.waitForEvent("download"), page.locator(`.files a[download="${name}"]`).click()]);
      saved[name] = await readFile((await download.path())!);
    }
    const modelJson = JSON.parse(saved["model.json"].toString("utf8"));
    expect(modelJson.weightsManifest.map((g: { paths: string[] }) => g.paths)).toEqual([["weights.bin"]]);
    expect(modelJson.propius.hash).toBe(final.modelHash);
    const weights = await owner.weights(job.id);
    expect(saved["weights.bin"].byteLength).toBe(parameterCount(final.spec.model.weightSpecs) * 4);
    expect(new Float32Array(saved["weights.bin"].buffer.slice(saved["weights.bin"].byteOffset, saved["weights.bin"].byteOffset + saved["weights.bin"].byteLength))).toEqual(weights);
  });

  it("changes a job's demand and cancels it from its page; the cancel arrives as an event", async () => {
    const { page } = tab;
    const job = await createDemoJob(owner, { rounds: 2, clients: 2 });
    await page.evaluate((id) => (location.hash = `#/jobs/${id}`), job.id);
    await page.waitForFunction(() => document.body.dataset.jobState === "running" && (document.querySelector("#demand") as HTMLInputElement | null)?.value === "2", null, { timeout: 30_000 });
    await page.locator("#demand").fill("3");
    await page.locator("#set-demand").click();
    await page.waitForFunction(() => /^demand set to 3 /.test(document.querySelector("#action-message")?.textContent ?? ""), null, { timeout: 30_000 });
    expect((await owner.status(job.id)).spec.plan.clientsPerRound).toBe(3);
    expect(await page.locator("pre.spec").textContent()).toContain('"clientsPerRound": 3');

    page.once("dialog", (dialog) => void dialog.accept());
    await page.locator("#cancel").click();
    await page.waitForFunction(() => document.body.dataset.jobState === "cancelled", null, { timeout: 30_000 });
    expect((await owner.status(job.id)).state).toBe("cancelled");
    expect(await page.evaluate(() => (window as unknown as { dashboardMark?: string }).dashboardMark)).toBe("not reloaded");
    // The refused sign-in is the one failed request the browser logs.
    expect(tab.errors.filter((e) => !/^Failed to load resource: the server responded with a status of 401/.test(e))).toEqual([]);
  });
});
