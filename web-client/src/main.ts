import * as Comlink from "comlink";
import { PROTOCOL_VERSION } from "@propius/shared";
import type { ContributionEvent, ContributorApi, DataSummary, FileBytes } from "./contract.js";
import { DeviceStore } from "./store/device-store.js";
import { demoShardChoice } from "./ui/data-choice.js";
import { setUpDigitPad } from "./ui/digit-pad.js";
import { byId, formatBytes, showData, showHistory, showProbe, showTotals, text } from "./ui/view.js";
import { watchVisibility } from "./ui/visibility.js";

/**
 * The contribute page: probes the browser in a worker, picks the tab's data, and contributes to the
 * control plane's jobs with the same task loop as the Node device. The main thread only draws.
 */
const params = new URLSearchParams(location.search);
const controlPlane = params.get("control") ?? location.origin;
const assets = new URL(import.meta.env.BASE_URL, location.href);
const store = new DeviceStore(controlPlane);
const worker = Comlink.wrap<ContributorApi>(new Worker(new URL("./worker/training-worker.ts", import.meta.url), { type: "module" }));
const [startButton, pauseButton] = [byId<HTMLButtonElement>("start"), byId<HTMLButtonElement>("pause")];

let backend = "";
let contributing = false;
let bytesDown = 0;

const setState = (state: "probing" | "ready" | "contributing" | "paused" | "failed", status: string) => {
  document.body.dataset.state = state;
  text("status", status);
};

function onEvent(event: ContributionEvent): void {
  switch (event.type) {
    case "registered": {
      // Also a renewed token of the same device: kept, and the status line stays as it is.
      const renewed = store.state.credentials?.clientId === event.credentials.clientId;
      store.update((s) => (s.credentials = event.credentials));
      if (renewed) return;
      return setState("contributing", `enrolled as device ${event.credentials.clientId}`);
    }
    case "waiting":
      return setState("contributing", event.via === "push" ? `waiting for work (${event.reason}); connected, the next task comes the moment there is one` : `waiting for work (${event.reason}); next check-in in ${(event.retryAfterMs / 1000).toFixed(1)} s`);
    case "task":
      text("job", event.jobId);
      text("round", String(event.round));
      Object.assign(byId<HTMLProgressElement>("progress"), { max: event.steps, value: 0 });
      text("steps", `0 / ${event.steps}`);
      bytesDown = 0;
      return setState("contributing", `training for job ${event.jobId}, round ${event.round}`);
    case "examples":
      return text("data-format", `job ${event.jobId}: ${event.description}`);
    case "examples_refused":
      return text("data-format", `job ${event.jobId}: not trained, ${event.message}`);
    case "downloaded":
      bytesDown = event.bytes;
      return store.update((s) => (s.totals.bytesDown += event.bytes)), showTotals(store.state.totals);
    case "progress":
      byId<HTMLProgressElement>("progress").value = event.step;
      text("steps", `${event.step} / ${event.steps}`);
      return text("loss", event.loss.toFixed(4));
    case "trained":
      return setState("contributing", `trained on ${event.examples} examples in ${(event.millis / 1000).toFixed(1)} s (${Math.round(event.samplesPerSecond)} samples/s); uploading`);
    case "uploaded":
      store.update((s) => {
        s.totals.bytesUp += event.bytes;
        s.history.push({ at: Date.now(), jobId: event.jobId, round: event.round, status: "accepted", examples: event.examples, trainLoss: event.trainLoss, bytesUp: event.bytes, bytesDown, backend });
      });
      showTotals(store.state.totals);
      showHistory(store.state.history);
      return setState("contributing", `update for round ${event.round} accepted (${event.reported}/${event.demand} reported, ${formatBytes(event.bytes)} sent)`);
    case "refused":
      store.update((s) => s.history.push({ at: Date.now(), jobId: event.jobId, round: event.round, status: `refused: ${event.code}`, examples: 0, trainLoss: NaN, bytesUp: 0, bytesDown, backend }));
      showHistory(store.state.history);
      return setState("contributing", `update for round ${event.round} refused: ${event.message}`);
    case "evaluated": {
      const e = event.evaluation;
      return text("evaluation", `accuracy ${e.accuracy.toFixed(4)}, loss ${e.loss.toFixed(4)} on ${e.examples} digits; model: job ${e.jobId} as round ${e.round} started (ONNX Runtime Web, in this tab)`);
    }
    case "evaluation_failed":
      return text("evaluation", `not evaluated: ${event.message}`);
    case "failed":
      store.update((s) => s.history.push({ at: Date.now(), jobId: event.jobId, round: event.round, status: `failed: ${event.code}`, examples: 0, trainLoss: NaN, bytesUp: 0, bytesDown, backend }));
      showHistory(store.state.history);
      return setState("contributing", `could not do round ${event.round} of job ${event.jobId} (${event.code})${event.reported ? ", told the job" : ""}: ${event.message}`);
    case "outage":
      return setState("contributing", `the control plane cannot be reached; trying again in ${(event.retryInMs / 1000).toFixed(1)} s (${event.message})`);
    case "stopped":
      return;
    case "error":
      return setState("failed", `stopped by an error: ${event.message}`);
  }
}

async function start(): Promise<void> {
  contributing = true;
  store.update((s) => (s.contributing = true));
  [startButton.disabled, pauseButton.disabled] = [true, false];
  setState("contributing", "checking in…");
  try {
    await worker.start({ baseUrl: controlPlane, credentials: store.state.credentials, poll: params.get("poll") === "1" }, Comlink.proxy(onEvent));
  } catch (error) {
    setState("failed", `cannot start: ${error instanceof Error ? error.message : String(error)}`);
  }
  contributing = false;
  [startButton.disabled, pauseButton.disabled] = [false, true];
  if (document.body.dataset.state !== "failed") setState("paused", "paused");
}

async function pause(): Promise<void> {
  store.update((s) => (s.contributing = false));
  pauseButton.disabled = true;
  await worker.pause();
}

async function useData(load: Promise<DataSummary>): Promise<void> {
  try {
    showData(await load);
    text("data-format", "as each job's spec says, when its first task arrives");
  } catch (error) {
    text("data", `could not load the data: ${(error as Error).message}`);
    throw error;
  }
}

async function useFiles(): Promise<void> {
  const picked = [...(byId<HTMLInputElement>("files").files ?? [])];
  if (contributing) return text("data", "pause before changing the training data");
  const files: FileBytes[] = await Promise.all(picked.map(async (f) => ({ name: f.name, type: f.type, bytes: await f.arrayBuffer() })));
  // The buffers move to the worker (transferred, not copied): the page keeps no copy of the data.
  await useData(worker.useFiles(Comlink.transfer(files, files.map((f) => f.bytes)))).catch(() => undefined);
}

async function main(): Promise<void> {
  showHistory(store.state.history);
  showTotals(store.state.totals);
  // The drawing's pixels move to the worker (transferred), where the model runs.
  setUpDigitPad((pixels) => worker.predict(Comlink.transfer(pixels, [pixels.buffer])));
  watchVisibility(() => contributing);
  setState("probing", "probing this browser's backends…");
  const health = await fetch(`${controlPlane}/v1/health`).then((r) => r.json() as Promise<{ protocol: number }>);
  if (health.protocol !== PROTOCOL_VERSION) throw new Error(`the control plane at ${controlPlane} speaks protocol v${health.protocol}, this page v${PROTOCOL_VERSION}`);
  const report = await worker.probe({ wasmPaths: new URL("tfjs/", assets).href });
  backend = report.backend;
  showProbe(report);
  const shard = demoShardChoice(params, store.state.shardSeed);
  await useData(worker.useDemoShard({ ...shard, digitsUrl: new URL("data/mnist-digits-v1.bin", assets).href }));
  startButton.addEventListener("click", () => void start());
  pauseButton.addEventListener("click", () => void pause());
  byId("use-files").addEventListener("click", () => void useFiles());
  byId("use-demo").addEventListener("click", () => {
    if (contributing) return text("data", "pause before changing the training data");
    void useData(worker.useDemoShard({ ...shard, digitsUrl: new URL("data/mnist-digits-v1.bin", assets).href })).catch(() => undefined);
  });
  setState("ready", `ready on ${backend}; control plane ${controlPlane}`);
  startButton.disabled = false;
  if (store.state.contributing || params.get("autostart") === "1") await start();
}

main().catch((error: unknown) => setState("failed", `cannot contribute: ${error instanceof Error ? error.message : String(error)}`));
