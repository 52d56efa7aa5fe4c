import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OwnerClient } from "@propius/edge-runtime";
import { demoModel, demoTestSet, loadDigits, useDigitsCache } from "@propius/edge-runtime/demo";
import { evaluate, initTraining } from "@propius/edge-runtime/training";
import { fileDigitsCache } from "@propius/node-client";
import { createDemoJob, followJob } from "../../scripts/lib/demo-job.js";
import { startDemoClients, stopAll } from "../../scripts/lib/demo-clients.js";
import { buildDeviceBundle } from "../../scripts/lib/bundles.js";
import { ensureWebPage } from "../../scripts/lib/web-page.js";
import { ROOT } from "../../scripts/lib/local-control-plane.js";
import { TEST_BUILD_DIR, TestControlPlane } from "../integration/helpers.js";
import { describeChromium, findChromium, openTab, readPage, webgpuAdapterOf, type Tab } from "../../scripts/lib/chromium.js";
import type { Page } from "playwright-core";
import { digitPng, pauseTab, useFiles } from "./tab-actions.js";

const SCREENSHOTS = join(ROOT, "test-results");
const [ROUNDS, SHARDS, SEED] = [3, 4, 7];

describe("the contribute page: two browser tabs and two Node devices on one job", () => {
  let plane: TestControlPlane;
  let owner: OwnerClient;
  let devicesDir: string;
  let entry: string;
  const tabs: Tab[] = [];
  const lines: string[] = [];

  beforeAll(async () => {
    devicesDir = await mkdtemp(join(tmpdir(), "propius-browser-"));
    useDigitsCache(fileDigitsCache(join(devicesDir, "cache")));
    const ready = Promise.all([loadDigits(), buildDeviceBundle(TEST_BUILD_DIR)]);
    ready.catch(() => undefined);
    // The production build (minified, cross-origin isolated): where threaded wasm used to hang.
    await ensureWebPage();
    // A job created while a tab waits is offered at its next check-in, not a cached job list later.
    plane = await TestControlPlane.start({ SCHEDULER_VIEW_TTL_MS: "0" });
    owner = await plane.owner();
    [, entry] = await ready;
  });
  afterAll(async () => {
    await Promise.all(tabs.map((tab) => tab.close()));
    await plane?.dispose();
    await rm(devicesDir, { recursive: true, force: true });
  });

  it("probes a working backend with and without WebGPU, aggregates the tabs' updates, and runs the model in the tab", async () => {
    const job = await createDemoJob(owner, { rounds: ROUNDS, clients: 4 });
    // One browser with WebGPU (a software adapter) and one without: each tab is its own device.
    const url = (shard: number) => `${plane.url}/?shard=${shard}&shards=${SHARDS}&seed=${SEED}&autostart=1`;
    tabs.push(await openTab(url(2), { webgpu: true }), await openTab(url(3), { webgpu: false }));
    const devices = startDemoClients({ url: plane.url, count: 2, shards: SHARDS, processes: 1, seed: SEED, stateDir: devicesDir, cacheDir: join(devicesDir, "cache"), entry, onLine: (i, line) => lines.push(`[${i}] ${line}`) });
    try {
      const accuracies: number[] = [];
      const final = await followJob(owner, job.id, ({ testAccuracy }) => accuracies.push(testAccuracy));
      const pages = await Promise.all(tabs.map((tab) => readPage(tab.page)));
      const context = JSON.stringify({ pages, errors: tabs.map((t) => t.errors), lines }, null, 1);
      expect(final.state, context).toBe("done");
      // Every round waited for all four devices: both tabs' updates were accepted and aggregated.
      expect(final.rounds.filter((r) => r.status === "closed").map((r) => r.reported)).toEqual(Array(ROUNDS).fill(4));
      const nodeUploads = lines.filter((line) => line.includes("uploaded delta")).length;
      expect(nodeUploads, context).toBe(2 * ROUNDS);

      // Each page's history lists its accepted update for every round of this job.
      for (const page of pages) {
        const accepted = page.history.filter(([, jobId, , result]) => jobId === job.id && result === "accepted");
        expect(accepted.map(([, , round]) => Number(round)).sort(), context).toEqual([1, 2, 3]);
        expect(page.bytesUp).toMatch(/MB$/);
      }

      // The probe picked a backend that works, with and without WebGPU.
      const [withGpu, withoutGpu] = pages;
      for (const page of pages) {
        const chosen = page.probes.find(([name]) => name === page.backend);
        expect(chosen?.[1], context).toMatch(/^ok/);
        expect(Number(chosen?.[2])).toBeGreaterThan(0);
      }
      // The production build is cross-origin isolated, where threaded tfjs-wasm used to hang: wasm
      // initialises (single-threaded) and trains.
      for (const page of pages) {
        expect(page.capabilities).toContain("WASM threadsavailable (not used");
        expect(page.probes.find(([name]) => name === "wasm")?.[1]).toMatch(/^ok/);
      }
      // WebGPU as this browser gives it, asked in each tab apart from the page's own probe: with
      // the flag, an adapter where the browser has one; without it, none (the fallback tab).
      const [gpuAdapter, noFlagAdapter] = await Promise.all(tabs.map((tab) => webgpuAdapterOf(tab.page)));
      expect(noFlagAdapter, "without --enable-unsafe-webgpu the tab must have no adapter, to test the fallback").toBeNull();
      const checked = [expectWebgpuAsGiven(withGpu, gpuAdapter, "--enable-unsafe-webgpu"), expectWebgpuAsGiven(withoutGpu, noFlagAdapter, "no flag")];
      console.log(`browser: ${describeChromium(await findChromium())}\n${checked.join("\n")}`);

      await initTraining({ prefer: ["wasm"] });
      const model = demoModel();
      const initial = await evaluate({ model, weights: model.initialWeights, data: await demoTestSet() });
      expect(accuracies).toHaveLength(ROUNDS);
      expect(accuracies[ROUNDS - 1]).toBeGreaterThan(initial.accuracy + 0.3);

      // In-tab ONNX evaluation of the model the tabs last trained from (round 3 starts from round
      // 2's result) agrees with the owner's tfjs evaluation of that model on the same digits.
      for (const tab of tabs) {
        await tab.page.waitForFunction(() => /round 3/.test(document.querySelector("#evaluation")?.textContent ?? ""), null, { timeout: 60_000 });
        const evaluation = (await tab.page.locator("#evaluation").textContent()) ?? "";
        const accuracy = Number(/accuracy (\d\.\d+)/.exec(evaluation)?.[1]);
        expect(Math.abs(accuracy - accuracies[1]), evaluation).toBeLessThanOrEqual(0.001);
        expect(evaluation).toMatch(/on 2000 digits/);
      }
      // Drawing a digit on the pad gives the model's prediction, run in the tab.
      const pad = await tabs[0].page.locator("#pad").boundingBox();
      const mouse = tabs[0].page.mouse;
      await mouse.move(pad!.x + pad!.width / 2, pad!.y + 30);
      await mouse.down();
      for (let y = 40; y <= pad!.height - 30; y += 10) await mouse.move(pad!.x + pad!.width / 2, pad!.y + y);
      await mouse.up();
      await tabs[0].page.waitForFunction(() => /predicts \d/.test(document.querySelector("#inference")?.textContent ?? ""), null, { timeout: 30_000 });
      expect(await tabs[0].page.locator("#inference").textContent()).toMatch(/^The model predicts \d \(\d+\.\d %\).*as round 3 started, run with ONNX Runtime Web/);

      await mkdir(SCREENSHOTS, { recursive: true });
      await tabs[0].page.screenshot({ path: join(SCREENSHOTS, "contribute-page-webgpu.png"), fullPage: true });
      await tabs[1].page.screenshot({ path: join(SCREENSHOTS, "contribute-page-no-webgpu.png"), fullPage: true });
    } finally {
      await stopAll(devices);
    }
  });

  it("resumes after a reload as the same device, with its history, and enrols again when its token is refused", async () => {
    const tab = tabs[1];
    const before = await readPage(tab.page);
    await tab.page.reload();
    await tab.page.waitForFunction(() => document.body.dataset.state === "contributing", null, { timeout: 60_000 });
    const after = await readPage(tab.page);
    expect(after.stored.map(([, state]) => state.credentials?.clientId)).toEqual(before.stored.map(([, state]) => state.credentials?.clientId));
    expect(after.stored[0][1].credentials?.clientId).toMatch(/^c/);
    expect(after.history).toEqual(before.history);
    expect(after.history.length).toBeGreaterThanOrEqual(ROUNDS);

    // A token the control plane no longer accepts (say its state was reset): the tab enrols again.
    const [key, state] = after.stored[0];
    await tab.page.evaluate(([k, v]) => localStorage.setItem(k, v), [key, JSON.stringify({ ...state, credentials: { clientId: "cforgotten0", token: "ct_cforgotten0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" } })]);
    await tab.page.reload();
    await tab.page.waitForFunction(() => /^enrolled as device|^waiting for work/.test(document.querySelector("#status")?.textContent ?? ""), null, { timeout: 60_000 });
    const enrolled = await readPage(tab.page);
    expect(enrolled.stored[0][1].credentials?.clientId).toMatch(/^c/);
    expect(enrolled.stored[0][1].credentials?.clientId).not.toBe("cforgotten0");
    expect(enrolled.stored[0][1].credentials?.clientId).not.toBe(state.credentials?.clientId);
    expect(enrolled.history).toEqual(before.history);
  });

  it("masks its update for a job that aggregates securely: the tabs and two Node devices are one group, and the round closes on its sum", async () => {
    const job = await createDemoJob(owner, { rounds: 1, clients: 4, secure: true, federatedEvaluation: false });
    const devices = startDemoClients({ url: plane.url, count: 2, shards: SHARDS, processes: 1, seed: SEED, stateDir: join(devicesDir, "secure"), cacheDir: join(devicesDir, "cache"), entry, onLine: (i, line) => lines.push(`[secure ${i}] ${line}`) });
    try {
      const accuracies: number[] = [];
      const final = await followJob(owner, job.id, ({ testAccuracy }) => accuracies.push(testAccuracy));
      const pages = await Promise.all(tabs.map((tab) => readPage(tab.page)));
      const context = JSON.stringify({ pages, errors: tabs.map((t) => t.errors), lines: lines.filter((l) => l.startsWith("[secure")) }, null, 1);
      expect(final.state, context).toBe("done");
      expect(final.rounds.map((r) => [r.status, r.reported]), context).toEqual([["closed", 4]]);
      for (const page of pages) expect(page.history.filter(([, jobId, , result]) => jobId === job.id && result === "accepted"), context).toHaveLength(1);
      // One round from the demo's initial weights (test accuracy about 0.1) on the group's sum alone.
      expect(accuracies[0]).toBeGreaterThan(0.3);
    } finally {
      await stopAll(devices);
    }
  });

  it("trains a round of a job on the user's own files, CSV rows or PNG images, in the job's input format", async () => {
    // Only this tab contributes from here on: the other pauses, so each 1-device job goes to this one.
    await pauseTab(tabs[0].page);
    const { page } = tabs[1];
    await pauseTab(page);
    await page.locator("details summary").click();
    const row = (label: number) => [label, ...Array.from({ length: 784 }, (_, i) => (i % 29 === label ? 1 : 0))].join(",");
    const csv = Buffer.from(`label,${Array.from({ length: 784 }, (_, i) => `p${i}`).join(",")}\n${row(3)}\n${row(7)}\n`);
    await useFiles(page, [{ name: "digits.csv", mimeType: "text/csv", buffer: csv }]);
    expect(await page.locator("#data").textContent()).toBe("your files: 1 CSV file, 2 examples");
    await trainOneRound(page, "2 examples from 1 CSV file");

    // Dark digits on white, 56 x 56, as a person might scan them: scaled to the job's 28 x 28 and inverted.
    await pauseTab(page);
    await useFiles(page, [
      { name: "3_001.png", mimeType: "image/png", buffer: await digitPng(page, "3") },
      { name: "7_001.png", mimeType: "image/png", buffer: await digitPng(page, "7") },
    ]);
    expect(await page.locator("#data").textContent()).toBe("your files: 2 images, 2 examples");
    await trainOneRound(page, "2 examples from 2 images scaled to 28 x 28");
  });

  it("tells a job whose input format the user's files cannot fit that it cannot do its task, uploads nothing, and goes on", async () => {
    const { page } = tabs[1];
    await pauseTab(page);
    await useFiles(page, [{ name: "short.csv", mimeType: "text/csv", buffer: Buffer.from("label,a,b,c,d\n1,0,0.5,1,0\n") }]);
    expect(await page.locator("#data").textContent()).toBe("your files: 1 CSV file, 1 example");
    const job = await createDemoJob(owner, { rounds: 1, clients: 1, minExamples: 0 });
    // Every status line the tab shows is kept as it appears: the tab goes on at once, and its next check-in replaces the line.
    await page.evaluate(() => {
      const status = document.querySelector("#status")!;
      const shown: string[] = [];
      Object.assign(window, { shownStatuses: shown });
      new MutationObserver(() => shown.push(status.textContent ?? "")).observe(status, { childList: true, characterData: true, subtree: true });
    });
    await page.locator("#start").click();
    const said = await page.waitForFunction(
      () => (window as unknown as { shownStatuses: string[] }).shownStatuses.find((line) => line.startsWith("could not do")) ?? null,
      null,
      { timeout: 60_000 },
    );
    const refusal = `this tab's data does not fit job ${job.id} (image 28 x 28 x 1, 10 classes): example 1 has 4 features; the job expects 784`;
    expect(await said.jsonValue()).toBe(`could not do round 1 of job ${job.id} (data_mismatch), told the job: ${refusal}`);
    expect(await page.locator("#data-format").textContent()).toBe(`job ${job.id}: not trained, ${refusal}`);
    // The job freed the tab's slot and counts the failure; nothing was uploaded.
    const status = await owner.status(job.id);
    expect(status.rounds.map((r) => [r.round, r.status, r.reported, r.failed])).toEqual([[1, "open", 0, { data_mismatch: 1 }]]);
    await owner.cancel(job.id);
  });

  /**
   * The page's WebGPU report agrees with the adapter the browser gives in that tab: with one, the
   * page names it and its webgpu probe trained; with none, the page says none and why its webgpu
   * probe failed (and trained on the backend it chose, checked above). Says what it checked.
   */
  function expectWebgpuAsGiven(page: Awaited<ReturnType<typeof readPage>>, adapter: string | null, flags: string): string {
    const probe = page.probes.find(([name]) => name === "webgpu")?.[1];
    const chosen = `chose ${page.backend}, trained rounds 1-${ROUNDS}`;
    if (adapter !== null) {
      expect(page.capabilities).toContain(`WebGPU adapter${adapter}WebGL2`);
      expect(probe).toMatch(/^ok/);
      return `tab (${flags}): the browser gives WebGPU adapter "${adapter}"; the page names it and its webgpu probe trained ok; ${chosen}`;
    }
    expect(page.capabilities).toContain("WebGPU adapternoneWebGL2");
    expect(probe).toMatch(/^failed: no WebGPU adapter/);
    return `tab (${flags}): the browser gives no WebGPU adapter; the page reports none and "${probe}"; ${chosen}`;
  }

  /**
   * Creates a 1-round job for one device, starts the tab, and waits until the job is done: the
   * tab's update was accepted and counted. Checks the format the page says it used.
   */
  async function trainOneRound(page: Page, used: string): Promise<void> {
    const job = await createDemoJob(owner, { rounds: 1, clients: 1, minExamples: 0, federatedEvaluation: false }); // every example trains: none held out
    await page.locator("#start").click();
    let status = await owner.status(job.id);
    for (const until = Date.now() + 60_000; status.state === "running" && Date.now() < until; status = await owner.status(job.id)) await new Promise((r) => setTimeout(r, 250));
    const shown = await readPage(page);
    const context = JSON.stringify({ shown, errors: tabs[1].errors });
    expect(status.state, context).toBe("done");
    expect(status.rounds.map((r) => [r.round, r.status, r.reported, r.examples]), context).toEqual([[1, "closed", 1, 2]]);
    expect(await page.locator("#data-format").textContent()).toBe(`job ${job.id}: image 28 x 28 x 1, 10 classes: ${used}`);
    await page.waitForFunction((id) => [...document.querySelectorAll("#history tbody tr")].some((tr) => tr.textContent?.includes(id)), job.id, { timeout: 30_000 });
    const accepted = (await readPage(page)).history.filter(([, jobId]) => jobId === job.id);
    expect(accepted.map(([, , round, result, examples]) => [round, result, examples])).toEqual([["1", "accepted", "2"]]);
  }
});
