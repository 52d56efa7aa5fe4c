import * as Comlink from "comlink";
import { jobInputFormat, type Task } from "@propius/shared";
import { probeBackends, type LocalData } from "@propius/edge-runtime/training";
import type { Capabilities, ContributionEvent, ContributorApi, FileBytes, ProbeReport, StartOptions } from "../contract.js";
import { registerBrowserBackends } from "./browser-backends.js";
import { probeCapabilities } from "./capabilities.js";
import { contribute } from "./contribution.js";
import { loadDemoShard, loadHeldOut } from "./demo-data.js";
import { LatestModel } from "./latest-model.js";
import { DemoExamples, FileExamples, type ExampleSource } from "./job-examples.js";

/**
 * The tab's training worker: probes, holds the local data, runs the task loop, and runs the
 * newest global model with ONNX Runtime Web, so that the page's main thread only draws. Exposed to the page with comlink.
 */

// The shared registry's wasm set-up turns wasm threads off: threaded tfjs-wasm never finishes
// initialising in a minified, cross-origin-isolated build (tfjs issue 4107).
registerBrowserBackends();

let probed: { report: ProbeReport; wasmPaths: string } | undefined;
let examples: ExampleSource | undefined;
let running: AbortController | undefined;
let digitsUrl: string | undefined;
let heldOut: Promise<LocalData> | undefined;
const latest = new LatestModel();

/** Whether a job takes the demo's digits (28 x 28, ten classes): only then are the held-out digits a test set for it. */
function takesDigits(task: Task): boolean {
  const format = jobInputFormat(task);
  return format.kind === "image" && format.width === 28 && format.height === 28 && format.classes === 10;
}

const api: ContributorApi = {
  async probe({ wasmPaths }) {
    const capabilities: Capabilities = await probeCapabilities();
    const { chosen, probes } = await probeBackends({ wasmPaths, steps: 8, timeoutMs: 30_000 });
    probed = { report: { capabilities, probes, backend: chosen }, wasmPaths };
    return probed.report;
  },

  async useDemoShard(options) {
    const loaded = await loadDemoShard(options);
    examples = new DemoExamples(loaded.data, loaded.summary.description);
    digitsUrl = options.digitsUrl;
    return loaded.summary;
  },

  async useFiles(files: FileBytes[]) {
    const chosen = new FileExamples(files);
    examples = chosen;
    return { ...chosen.summary };
  },

  async start(options: StartOptions, onEvent: (event: ContributionEvent) => void) {
    if (!probed) throw new Error("probe the backends before starting");
    if (!examples) throw new Error("choose the training data before starting");
    if (running) throw new Error("already contributing");
    const controller = new AbortController();
    running = controller;
    try {
      await contribute({
        ...options, examples, backend: probed.report.backend, wasmPaths: probed.wasmPaths, capabilities: probed.report.capabilities,
        signal: controller.signal, emit: onEvent, latest,
        heldOut: async (task) => (digitsUrl === undefined || !takesDigits(task) ? undefined : (heldOut ??= loadHeldOut(digitsUrl))),
      });
    } catch (error) {
      onEvent({ type: "error", message: error instanceof Error ? error.message : String(error) });
    } finally {
      if (running === controller) running = undefined;
    }
  },

  async pause() {
    running?.abort(new Error("paused"));
  },

  async predict(input: Float32Array) {
    return latest.predict(input);
  },
};

Comlink.expose(api);
