import * as Comlink from "comlink";
import { probeBackends, type LocalData } from "@propius/edge-runtime/training";
import type { Capabilities, ContributionEvent, ContributorApi, FileBytes, ProbeReport, StartOptions } from "../contract.js";
import { registerBrowserBackends } from "./browser-backends.js";
import { probeCapabilities } from "./capabilities.js";
import { contribute } from "./contribution.js";
import { loadDemoShard, loadHeldOut } from "./demo-data.js";
import { LatestModel } from "./latest-model.js";
import { loadFiles } from "./local-files.js";

/**
 * The tab's training worker: probes, holds the local data, runs the task loop, and runs the
 * newest global model with ONNX Runtime Web, so that the page's main thread only draws. Exposed to the page with comlink.
 */

// The shared registry's wasm set-up turns wasm threads off: threaded tfjs-wasm never finishes
// initialising in a minified, cross-origin-isolated build (tfjs issue 4107).
registerBrowserBackends();

let probed: { report: ProbeReport; wasmPaths: string } | undefined;
let data: LocalData | undefined;
let running: AbortController | undefined;
let digitsUrl: string | undefined;
let heldOut: Promise<LocalData> | undefined;
const latest = new LatestModel();

const api: ContributorApi = {
  async probe({ wasmPaths }) {
    const capabilities: Capabilities = await probeCapabilities();
    const { chosen, probes } = await probeBackends({ wasmPaths, steps: 8, timeoutMs: 30_000 });
    probed = { report: { capabilities, probes, backend: chosen }, wasmPaths };
    return probed.report;
  },

  async useDemoShard(options) {
    const loaded = await loadDemoShard(options);
    data = loaded.data;
    digitsUrl = options.digitsUrl;
    return loaded.summary;
  },

  async useFiles(files: FileBytes[], options) {
    const loaded = await loadFiles(files, options);
    data = loaded.data;
    return loaded.summary;
  },

  async start(options: StartOptions, onEvent: (event: ContributionEvent) => void) {
    if (!probed) throw new Error("probe the backends before starting");
    if (!data) throw new Error("choose the training data before starting");
    if (running) throw new Error("already contributing");
    const controller = new AbortController();
    running = controller;
    try {
      await contribute({
        ...options, data, backend: probed.report.backend, wasmPaths: probed.wasmPaths, capabilities: probed.report.capabilities,
        signal: controller.signal, emit: onEvent, latest,
        heldOut: async () => (digitsUrl === undefined ? undefined : (heldOut ??= loadHeldOut(digitsUrl))),
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
