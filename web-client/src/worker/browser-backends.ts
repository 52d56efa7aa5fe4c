import { trainingBackends } from "@propius/edge-runtime/training";
import { webgl2, webgpuAdapter } from "./capabilities.js";

/**
 * Adds the browser's GPU backends to the shared training registry (which already holds wasm and
 * cpu), by priority: webgpu, webgl, wasm, cpu. The probe then chooses among them by speed; a
 * backend whose set-up throws is skipped, so a browser without WebGPU falls back by itself.
 */
export function registerBrowserBackends(): void {
  trainingBackends.register("webgpu", 4, async () => {
    if (!(await webgpuAdapter())) throw new Error("no WebGPU adapter (Chromium gives one with --enable-unsafe-webgpu or a supported GPU)");
    await import("@tensorflow/tfjs-backend-webgpu");
  });
  trainingBackends.register("webgl", 3, async () => {
    if (!webgl2()) throw new Error("no WebGL2 context in this worker");
    await import("@tensorflow/tfjs-backend-webgl");
  });
}
